/**
 * Markdown in task bodies, results and comments is written by agents and people we do not fully
 * trust: only http(s) and mailto links survive (no javascript:, data:, vbscript:, relative tricks).
 */
export function safeUrl(url: string | null | undefined): string | null {
  if (!url) return null;
  const trimmed = url.trim();
  // Control characters and whitespace inside a scheme are a classic filter bypass.
  if (/[\u0000-\u001f\u007f]/.test(trimmed)) return null;
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(trimmed);
  if (!m) return null;
  const scheme = (m[1] ?? "").toLowerCase();
  if (scheme === "http" || scheme === "https") {
    try {
      return new URL(trimmed).href;
    } catch {
      return null;
    }
  }
  if (scheme === "mailto") return trimmed;
  return null;
}
