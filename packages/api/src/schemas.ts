import { KanbanDbError, normaliseSlug } from "@kanban/db";
import { TITLE_MAX } from "@kanban/kernel";
import { z } from "zod";

/**
 * Input limits. Generous for people, tight enough that one request cannot make the server parse
 * or store something absurd (the HTTP body cap bounds the whole request on top of these).
 */
export const LIMITS = {
  titleChars: TITLE_MAX,
  bodyChars: 1024 * 1024,
  commentChars: 64 * 1024,
  resultChars: 1024 * 1024,
  reasonChars: 64 * 1024,
  nameChars: 200,
  arrayItems: 500,
  eventPage: 200,
  /** Comments per page of `comments.list` (the drawer pages back through long discussions). */
  commentPage: 200,
} as const;

export const ID_RE = /^[A-Za-z0-9_-]{1,64}$/;

/** A task (or other object) id: what the kernel generates, and what Hermes' legacy ids look like. */
export const idSchema = z.string().trim().regex(ID_RE, "ids are 1-64 characters of letters, digits, '_' and '-'");

export const runIdSchema = z.number().int().min(1);

/** A board slug, normalised (trimmed, lowercased) and checked with the db's own rule and wording. */
export const boardSlugSchema = z
  .string()
  .max(100)
  .transform((value, ctx) => {
    try {
      return normaliseSlug(value);
    } catch (err) {
      ctx.addIssue({ code: "custom", message: err instanceof KanbanDbError ? err.message : "invalid board slug" });
      return z.NEVER;
    }
  });

export const nameSchema = z.string().max(LIMITS.nameChars);
export const titleSchema = z.string().max(LIMITS.titleChars);
export const bodySchema = z.string().max(LIMITS.bodyChars);
export const resultSchema = z.string().max(LIMITS.resultChars);
export const reasonSchema = z.string().max(LIMITS.reasonChars);
export const idListSchema = z.array(idSchema).max(LIMITS.arrayItems);

/** Every procedure accepts `board`: omitted means the current board. */
export const withBoard = { board: boardSlugSchema.optional() };

/** Worker-side calls prove they still own the attempt (see the kernel's Fence). */
export const fenceFields = {
  expected_run_id: runIdSchema.nullish(),
  claim_lock: z.string().max(LIMITS.nameChars).nullish(),
};

// --- free JSON: bounded depth and size ---

/**
 * Bounds of a free-form JSON field (completion metadata and the like). Deep nesting is refused
 * because every later reader (JSON.stringify of a response, a worker's prompt) recurses over it:
 * a value stored 3,000 levels deep made every read of its task fail.
 */
export const JSON_BOUNDS = { maxDepth: 32, maxBytes: 256 * 1024 } as const;

/**
 * How deep a whole request may nest, checked before any schema (which would recurse) sees it.
 * Above every field's own bound plus the few levels of the input object around it.
 */
export const INPUT_MAX_DEPTH = 64;

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Why `value` is not JSON within `bounds` (one readable phrase), or null when it is. Walks with
 * its own stack, so a value nested 100,000 deep is refused without touching the call stack.
 */
export function jsonProblem(
  value: unknown,
  bounds: { maxDepth: number; maxBytes: number } = JSON_BOUNDS,
): string | null {
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const item = stack.pop() as { value: unknown; depth: number };
    const v = item.value;
    if (v === null || v === undefined || typeof v === "string" || typeof v === "boolean") continue;
    if (typeof v === "number") {
      if (!Number.isFinite(v)) return "numbers must be finite";
      continue;
    }
    if (typeof v !== "object" || (!Array.isArray(v) && !isPlainObject(v)))
      return `${typeof v === "object" ? "this object" : `a ${typeof v}`} is not JSON`;
    if (item.depth >= bounds.maxDepth) return `nested deeper than ${bounds.maxDepth} levels`;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push({ value: child, depth: item.depth + 1 });
  }
  // Depth is bounded now, so serialising cannot overflow.
  const bytes = Buffer.byteLength(JSON.stringify(value) ?? "");
  if (bytes > bounds.maxBytes) return `larger than ${bounds.maxBytes} bytes as JSON (${bytes})`;
  return null;
}

/** Any JSON value within `bounds`; the refusal names the field (`metadata: nested deeper than 32 levels`). */
export function jsonValue(bounds: { maxDepth: number; maxBytes: number } = JSON_BOUNDS) {
  return z.unknown().superRefine((value, ctx) => {
    const problem = jsonProblem(value, bounds);
    if (problem !== null) ctx.addIssue({ code: "custom", message: problem });
  });
}

/** A JSON object (string keys) within `bounds`. */
export function jsonObject(bounds: { maxDepth: number; maxBytes: number } = JSON_BOUNDS) {
  return z.record(z.string(), z.unknown()).superRefine((value, ctx) => {
    const problem = jsonProblem(value, bounds);
    if (problem !== null) ctx.addIssue({ code: "custom", message: problem });
  });
}

/** Completion / handoff metadata: a JSON object, at most 32 levels and 256 KiB. */
export const metadataSchema = jsonObject();

/** An unpaired UTF-16 surrogate: valid in a JS string, not encodable as UTF-8. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * What is wrong with a request's raw input before any schema parses it, or null: nesting deeper
 * than {@link INPUT_MAX_DEPTH} (named by its top-level field), or a string or key that is not
 * well-formed Unicode (named by its path; SQLite would store it as invalid UTF-8 and read back
 * replacement characters). Iterative, so no input can overflow the stack here.
 */
export function rawInputProblem(input: unknown): string | null {
  const stack: { value: unknown; at: string; depth: number; key?: string }[] = [{ value: input, at: "", depth: 0 }];
  const unpaired = (at: string) => `${at || "input"}: text is not well-formed Unicode (unpaired surrogate)`;
  while (stack.length > 0) {
    const { value, at, depth, key } = stack.pop() as (typeof stack)[number];
    if (key !== undefined && LONE_SURROGATE.test(key)) return unpaired(at);
    if (typeof value === "string") {
      if (LONE_SURROGATE.test(value)) return unpaired(at);
      continue;
    }
    if (value === null || typeof value !== "object") continue;
    if (depth >= INPUT_MAX_DEPTH)
      return `${at.split(".")[0] || "input"}: nested deeper than the ${INPUT_MAX_DEPTH} levels a request may have`;
    const entries = Object.entries(value);
    // Pushed last-first so that the first offending field in document order is the one reported.
    for (let i = entries.length - 1; i >= 0; i--) {
      const [k, item] = entries[i] as [string, unknown];
      stack.push({ value: item, at: at === "" ? k : `${at}.${k}`, depth: depth + 1, key: k });
    }
  }
  return null;
}

/** A board view's filters, as board.get, board.column and board.changes take them. */
export const boardFilterFields = {
  tenant: nameSchema.nullish(),
  assignee: nameSchema.nullish(),
  search: z.string().max(500).nullish(),
  workflow_template_id: nameSchema.nullish(),
  current_step_key: nameSchema.nullish(),
  include_archived: z.boolean().default(false),
};
