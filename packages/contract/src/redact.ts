/**
 * Secret redaction for text the board stores or shows that a worker or its tools wrote: a worker's
 * handoff (summary, result, reason, comment body, metadata), the tail of its output, a gate command's
 * output. Agents echo their environment more often than one would like; what reaches the board is
 * read by everyone who can see the card, so credentials are cut out on the way in.
 *
 * Two kinds of match:
 * - shapes every credential of a kind has (our run tokens, common provider keys, bearer headers,
 *   passwords in URLs, `NAME=value` lines whose name says it is a secret, PEM private keys);
 * - exact values the caller knows to be secret (a profile's secret-looking environment values, the
 *   server's own tokens), given as `known`.
 *
 * The replacement keeps what helps a reader (which variable, which URL, that something was there)
 * and drops the secret: `OPENAI_API_KEY=[redacted]`, `postgres://kanban:[redacted]@db/kanban`.
 */

export const REDACTED = "[redacted]";

/** Values shorter than this are never redacted as `known` values: they would match ordinary words. */
export const MIN_KNOWN_SECRET_LENGTH = 8;

/**
 * A variable or key name that says its value is a credential. Not `…TOKENS` (counts of model
 * tokens), and nothing as loose as `AUTH` (it would take `author`).
 */
const SECRET_NAME =
  "[A-Za-z0-9_.-]*(?:TOKEN(?!S)|SECRET|PASSWORD|PASSWD|PASSPHRASE|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIALS?)[A-Za-z0-9_.-]*";

interface Shape {
  pattern: RegExp;
  replace: string | ((match: string, ...groups: string[]) => string);
}

const SHAPES: Shape[] = [
  // PEM private keys, whole blocks (first: redactSecrets cuts the tails of cut-off blocks right after).
  {
    pattern: /-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----[\s\S]*?(?:-----END \1PRIVATE KEY-----|$)/g,
    replace: `-----BEGIN PRIVATE KEY----- ${REDACTED} -----END PRIVATE KEY-----`,
  },
  // Our own run tokens (kbr1.<claim>.<mac>).
  { pattern: /\bkbr1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/g, replace: REDACTED },
  // An Authorization header (`Authorization: Bearer …`, `Basic …`), and a bare `Bearer <token>`.
  {
    pattern: /\b(Authorization\s*[:=]\s*["']?)(?:(Bearer|Basic|Token)\s+)?[^\s"',;]+/gi,
    replace: (_m, head: string, scheme: string | undefined) => `${head}${scheme ? `${scheme} ` : ""}${REDACTED}`,
  },
  { pattern: /\bBearer\s+[A-Za-z0-9._~+/=-]{16,}/g, replace: `Bearer ${REDACTED}` },
  // Credentials in a URL: scheme://user:password@host keeps the user and the host.
  {
    pattern: /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*):([^\s@/]+)@/gi,
    replace: (_m, head: string) => `${head}:${REDACTED}@`,
  },
  // NAME=value, NAME: value, "name": "value" where the name says secret (env dumps, config, JSON);
  // a value of 8 characters or more that is not a plain number.
  {
    pattern: new RegExp(String.raw`(\b${SECRET_NAME}\b["']?\s*[=:]\s*["']?)((?!\d+\b)[^\s"',;]{8,})`, "gi"),
    replace: (_m, head: string) => `${head}${REDACTED}`,
  },
  // Provider keys by shape: OpenAI/Anthropic (sk-…), GitHub, Slack, AWS access key ids, Google API keys,
  // Stripe, GitLab, npm.
  { pattern: /\bsk-(?:ant-|proj-|live_|test_)?[A-Za-z0-9_-]{16,}/g, replace: REDACTED },
  { pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})/g, replace: REDACTED },
  { pattern: /\bxox[abposr]-[A-Za-z0-9-]{10,}/g, replace: REDACTED },
  { pattern: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g, replace: REDACTED },
  { pattern: /\bAIza[0-9A-Za-z_-]{35}\b/g, replace: REDACTED },
  { pattern: /\b(?:rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}/g, replace: REDACTED },
  { pattern: /\bglpat-[A-Za-z0-9_-]{20,}/g, replace: REDACTED },
  { pattern: /\bnpm_[A-Za-z0-9]{36}\b/g, replace: REDACTED },
];

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** One pattern for the `known` values worth cutting, longest first (a secret that contains another is cut whole). */
function knownPattern(known: readonly string[]): RegExp | null {
  const values = [...new Set(known.filter((k) => k.length >= MIN_KNOWN_SECRET_LENGTH))].sort(
    (a, b) => b.length - a.length,
  );
  return values.length === 0 ? null : new RegExp(values.map(escapeRegExp).join("|"), "g");
}

/**
 * `text` with every credential it contains replaced by `[redacted]` (see the module comment).
 * `known`: exact secret values to cut wherever they appear (shorter than MIN_KNOWN_SECRET_LENGTH: ignored).
 */
export function redactSecrets(text: string, known: readonly string[] = []): string {
  let out = text;
  const values = knownPattern(known);
  if (values !== null) out = out.replace(values, REDACTED);
  for (const [i, { pattern, replace }] of SHAPES.entries()) {
    pattern.lastIndex = 0;
    out = out.replace(pattern, replace as (substring: string, ...args: string[]) => string);
    // Right after whole PEM blocks, before any other shape could cut into a tail's base64 lines.
    if (i === 0) out = redactPemTails(out);
  }
  return out;
}

const PEM_END = /-----END ([A-Z0-9 ]*)PRIVATE KEY-----/g;

/**
 * Tails of PEM private keys whose BEGIN line is not in the text: a page or a tail that starts inside
 * a block longer than the margin its cut looks back over (SECRET_MARGIN_BYTES). Each is the run of
 * whole base64 lines right before an END line (the text's first line may be cut), and that line.
 * Found from each END line backwards, so text that is all base64 lines costs one pass.
 */
function pemTailSpans(text: string): [number, number][] {
  const out: [number, number][] = [];
  for (const m of text.matchAll(PEM_END)) {
    let from = m.index;
    // `from` starts a line of the run; the line before it joins the run when it is all base64.
    while (from > 0 && text.charCodeAt(from - 1) === 0x0a) {
      let end = from - 1;
      if (end > 0 && text.charCodeAt(end - 1) === 0x0d) end--;
      let start = end;
      while (start > 0 && isBase64Char(text.charCodeAt(start - 1))) start--;
      if (start === end || (start > 0 && text.charCodeAt(start - 1) !== 0x0a)) break;
      from = start;
    }
    if (from < m.index) out.push([from, m.index + m[0].length]);
  }
  return out;
}

function isBase64Char(c: number): boolean {
  return (
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x30 && c <= 0x39) ||
    c === 0x2b ||
    c === 0x2f ||
    c === 0x3d
  );
}

function redactPemTails(text: string): string {
  let out = text;
  for (const [from, to] of pemTailSpans(text).reverse())
    out = `${out.slice(0, from)}${REDACTED} -----END PRIVATE KEY-----${out.slice(to)}`;
  return out;
}

/** {@link redactSecrets} over every string in a JSON-like value (objects, arrays), keys kept. */
export function redactSecretsDeep<T>(value: T, known: readonly string[] = []): T {
  if (typeof value === "string") return redactSecrets(value, known) as T;
  if (Array.isArray(value)) return value.map((v) => redactSecretsDeep(v, known)) as T;
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      // A key that names a secret holds one, whatever it looks like.
      out[k] =
        typeof v === "string" && new RegExp(`^${SECRET_NAME}$`, "i").test(k) && v !== ""
          ? REDACTED
          : redactSecretsDeep(v, known);
    }
    return out as T;
  }
  return value;
}

/**
 * The values of an environment that look like secrets, for {@link redactSecrets}' `known`: each
 * variable whose name says it is a credential (see SECRET_NAME), long enough to be one.
 */
export function secretValuesOf(env: Readonly<Record<string, string | undefined>>): string[] {
  const name = new RegExp(`^${SECRET_NAME}$`, "i");
  return Object.entries(env)
    .filter(([k, v]) => name.test(k) && typeof v === "string" && v.length >= MIN_KNOWN_SECRET_LENGTH)
    .map(([, v]) => v as string);
}

/**
 * Where in `text` {@link redactSecrets} finds something to cut: every match of its rules, as
 * `[from, to)` ranges, overlapping and touching ones merged, in order. A range covers the whole match
 * (a kept head such as `TOKEN=` included).
 */
export function secretSpans(text: string, known: readonly string[] = []): [number, number][] {
  const found: [number, number][] = [];
  const patterns = [knownPattern(known), ...SHAPES.map((s) => s.pattern)];
  for (const pattern of patterns)
    if (pattern !== null) for (const m of text.matchAll(pattern)) found.push([m.index, m.index + m[0].length]);
  found.push(...pemTailSpans(text));
  found.sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const [from, to] of found) {
    const last = merged.at(-1);
    if (last !== undefined && from <= last[1]) last[1] = Math.max(last[1], to);
    else merged.push([from, to]);
  }
  return merged;
}

/**
 * How far around a cut to look for a secret it would split: beyond the longest credential worth
 * finding (a 4096-bit PEM private key is about 3.3 KiB). See {@link cutsOffSecrets}.
 */
export const SECRET_MARGIN_BYTES = 16 * 1024;

/**
 * A cut through text that will be redacted, moved off any secret it falls inside. A page of a log
 * read from `start` to `end` is redacted on its own: a credential the cut splits in two matches no
 * rule, and each page would show its half (paging with chosen offsets would show all of it, a piece
 * at a time). So each cut that lies inside a secret moves outward to the secret's edge: `start` back
 * to where it begins, `end` on to where it ends, and the page holds the whole secret, which its own
 * redaction then cuts.
 *
 * `window` is the bytes around the page, one character per byte (a latin1 decoding, so that indices
 * are byte offsets; the rules match ASCII), beginning at byte `windowStart` of the file. It should
 * reach {@link SECRET_MARGIN_BYTES} past both cuts. `known` are {@link redactSecrets}' exact values,
 * given as they are (their UTF-8 bytes are matched).
 */
export function cutsOffSecrets(
  window: string,
  windowStart: number,
  cuts: { start: number; end: number },
  known: readonly string[] = [],
): { start: number; end: number } {
  const encoder = new TextEncoder();
  const asBytes = known.map((k) => Array.from(encoder.encode(k), (b) => String.fromCharCode(b)).join(""));
  let { start, end } = cuts;
  for (const [from, to] of secretSpans(window, asBytes)) {
    const a = windowStart + from;
    const b = windowStart + to;
    if (a < start && start < b) start = a;
    if (a < end && end < b) end = b;
  }
  return { start, end };
}
