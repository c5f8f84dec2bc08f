/**
 * Where the API reports what it did and what went wrong. Fields are structured so a log shipper can
 * index them; nothing the API logs ever contains a token (see `redactUrl`).
 */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

function line(level: string, message: string, fields?: Record<string, unknown>): string {
  return `${JSON.stringify({ level, msg: message, ...fields })}\n`;
}

/** One JSON object per line on stderr. */
export const stderrLogger: Logger = {
  info: (m, f) => process.stderr.write(line("info", m, f)),
  warn: (m, f) => process.stderr.write(line("warn", m, f)),
  error: (m, f) => process.stderr.write(line("error", m, f)),
};

export const silentLogger: Logger = { info: () => {}, warn: () => {}, error: () => {} };

/** A request URL fit for a log line: the query string is dropped, since `?token=` may be in it. */
export function redactUrl(url: string | undefined): string {
  if (url === undefined) return "";
  const q = url.indexOf("?");
  return q === -1 ? url : `${url.slice(0, q)}?…`;
}
