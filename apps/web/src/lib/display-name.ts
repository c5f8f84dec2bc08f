/** Where the board keeps the name its comments are signed with (per browser, like the token). */
export const DISPLAY_NAME_KEY = "kanban.displayName";

/** The API's limit for an author name. */
export const DISPLAY_NAME_MAX = 64;

/**
 * A display name as typed: trimmed, inner whitespace collapsed; null when it is empty, too long,
 * or holds control characters (it is shown beside every comment the person makes).
 */
export function normaliseDisplayName(raw: string): string | null {
  const name = raw.trim().replace(/\s+/g, " ");
  if (name === "" || name.length > DISPLAY_NAME_MAX) return null;
  if (/[\u0000-\u001f\u007f]/.test(name)) return null;
  return name;
}

export function readDisplayName(storage: Pick<Storage, "getItem"> | null): string | null {
  try {
    const v = storage?.getItem(DISPLAY_NAME_KEY);
    return v ? normaliseDisplayName(v) : null;
  } catch {
    return null;
  }
}

export function writeDisplayName(storage: Pick<Storage, "setItem"> | null, name: string): void {
  try {
    storage?.setItem(DISPLAY_NAME_KEY, name);
  } catch {
    // no storage (private mode): the name holds for this page only
  }
}
