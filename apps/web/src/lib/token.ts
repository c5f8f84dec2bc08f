/**
 * The API token a person pasted (only needed when the server runs with KANBAN_TOKEN). It stays in
 * this browser's localStorage; the page never receives it from the server.
 */
const KEY = "kanban.token";

export function readToken(): string | null {
  if (typeof window === "undefined") return null;
  try {
    const t = window.localStorage.getItem(KEY);
    return t?.trim() ? t.trim() : null;
  } catch {
    return null;
  }
}

export function writeToken(token: string | null): void {
  try {
    if (token?.trim()) window.localStorage.setItem(KEY, token.trim());
    else window.localStorage.removeItem(KEY);
  } catch {
    // Private mode without storage: the token lasts until reload.
  }
}

/** An EventSource cannot send headers; the API accepts the token as `?token=` on GET streams. */
export function withTokenParam(url: string, token: string | null): string {
  if (!token) return url;
  return `${url}${url.includes("?") ? "&" : "?"}token=${encodeURIComponent(token)}`;
}
