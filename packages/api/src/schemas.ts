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
} as const;

export const ID_RE = /^[A-Za-z0-9_-]{1,64}$/;

/** A task (or other object) id: what the kernel generates, and what Hermes' legacy ids look like. */
export const idSchema = z
  .string()
  .trim()
  .regex(ID_RE, "ids are 1-64 characters of letters, digits, '_' and '-'");

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
export const metadataSchema = z.record(z.string(), z.unknown());
export const idListSchema = z.array(idSchema).max(LIMITS.arrayItems);

/** Every procedure accepts `board`: omitted means the current board. */
export const withBoard = { board: boardSlugSchema.optional() };

/** Worker-side calls prove they still own the attempt (see the kernel's Fence). */
export const fenceFields = {
  expected_run_id: runIdSchema.nullish(),
  claim_lock: z.string().max(LIMITS.nameChars).nullish(),
};

export const TASK_STATUS_VALUES = ["triage", "todo", "scheduled", "ready", "running", "blocked", "review", "done", "archived"] as const;
