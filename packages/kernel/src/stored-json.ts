import { invalid } from "./errors.ts";

/**
 * Bounds on the JSON the kernel stores in and reads from TEXT columns (run metadata, event payloads,
 * notify delivery metadata, skills).
 *
 * Reads must never fail because of what a row holds: Hermes, an older version or a hand-written
 * UPDATE may have stored anything. V8 parses very deep JSON, but `JSON.stringify` and every
 * recursive walk over the parsed value (sorting keys for the worker context, tRPC serialising a
 * response) overflow the stack somewhere between ~3,000 levels (inside a server's call stack) and
 * ~10,000 (anywhere). So a value nested deeper than `maxDepth`, or longer than `maxChars`, is never
 * parsed: the read returns {@link unreadableJson} in its place. Writes through the kernel refuse the
 * same values (INVALID_INPUT), so whatever the kernel stores it can read back unchanged.
 */
export const STORED_JSON_LIMITS = {
  maxDepth: 128,
  maxChars: 4 * 1024 * 1024,
} as const;

/** The key of the object a read returns in place of a stored value it will not parse. */
export const UNREADABLE_JSON_KEY = "_unreadable";

/**
 * Nesting depth of a JSON text (objects and arrays), without parsing it. Stops counting once the
 * depth passes `stopAbove`, so a pathological value costs no more than its first few KB.
 */
export function jsonNestingDepth(text: string, stopAbove = Number.POSITIVE_INFINITY): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: the next character is escaped, whatever it is
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > max) {
        max = depth;
        if (max > stopAbove) return max;
      }
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

/** Why a stored JSON text is not parsed, or null when it is within the limits. */
export function unreadableReason(text: string): string | null {
  if (text.length > STORED_JSON_LIMITS.maxChars) {
    return `stored JSON is ${text.length} characters long (limit ${STORED_JSON_LIMITS.maxChars}); not shown`;
  }
  if (jsonNestingDepth(text, STORED_JSON_LIMITS.maxDepth) > STORED_JSON_LIMITS.maxDepth) {
    return `stored JSON is nested deeper than ${STORED_JSON_LIMITS.maxDepth} levels (${text.length} characters); not shown`;
  }
  return null;
}

/** What a read returns for a value it will not parse: an object saying so, shaped like any payload. */
export function unreadableJson(reason: string): Record<string, unknown> {
  return { [UNREADABLE_JSON_KEY]: reason };
}

/**
 * Parses a stored JSON text without ever throwing: null for NULL, empty or malformed text;
 * `{ _unreadable: "<why>" }` for text beyond {@link STORED_JSON_LIMITS}.
 */
export function parseStoredJson(text: unknown): { value: unknown } | { unreadable: string } | null {
  if (typeof text !== "string" || text === "") return null;
  const reason = unreadableReason(text);
  if (reason !== null) return { unreadable: reason };
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    return null;
  }
}

/**
 * Depth of a value about to be stored, walked iteratively (a recursive walk would itself overflow on
 * the values this guards against). Stops once past `stopAbove`; a cycle therefore reads as too deep.
 */
function valueDepth(value: unknown, stopAbove: number): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop() as [unknown, number];
    if (v === null || typeof v !== "object") continue;
    if (d > max) {
      max = d;
      if (max > stopAbove) return max;
    }
    for (const child of Array.isArray(v) ? v : Object.values(v as Record<string, unknown>)) {
      if (child !== null && typeof child === "object") stack.push([child, d + 1]);
    }
  }
  return max;
}

/**
 * JSON text for a column, refusing (INVALID_INPUT, naming `field`) what a later read would not
 * parse: deeper than {@link STORED_JSON_LIMITS}.maxDepth or longer than its maxChars.
 */
export function storableJson(value: unknown, field: string): string {
  if (valueDepth(value, STORED_JSON_LIMITS.maxDepth) > STORED_JSON_LIMITS.maxDepth) {
    throw invalid(`${field} is nested deeper than ${STORED_JSON_LIMITS.maxDepth} levels`, {
      field,
      max_depth: STORED_JSON_LIMITS.maxDepth,
    });
  }
  let text: string;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    throw invalid(`${field} is not JSON: ${(err as Error).message}`, { field });
  }
  if (text.length > STORED_JSON_LIMITS.maxChars) {
    throw invalid(`${field} is ${text.length} characters of JSON (limit ${STORED_JSON_LIMITS.maxChars})`, {
      field,
      max_chars: STORED_JSON_LIMITS.maxChars,
    });
  }
  return text;
}
