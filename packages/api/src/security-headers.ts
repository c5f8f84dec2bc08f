/**
 * Headers on every response of the standalone API (`kanban serve`). The API answers JSON and
 * event streams only, so nothing it sends may be framed, run scripts or load anything: a page that
 * frames or sniffs a response gets nothing to work with. The board's own headers are in
 * apps/web/next.config.ts.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  "x-frame-options": "DENY",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cross-origin-resource-policy": "same-origin",
};
