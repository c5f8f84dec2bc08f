import fs from "node:fs";
import path from "node:path";
import { cutsOffSecrets, redactSecrets, SECRET_MARGIN_BYTES } from "@kanban/contract";
import { logsDir } from "@kanban/db";
import { z } from "zod";
import { knownSecrets } from "../../known-secrets.ts";
import { taskProcedure } from "../../trpc.ts";

/** Largest worker-log tail one request may read (Hermes' bound). */
export const LOG_TAIL_MAX = 2_000_000;

/**
 * Reads at most `tail` bytes of a worker log ending at byte `before` (default: its end). A read
 * that starts mid-line drops that partial first line; `start` is the offset of the first byte
 * returned, where the page before this one ends. A page inside one line longer than itself keeps
 * its part of that line, cut at a character's first byte: every page moves back, and no page, nor
 * the pages joined, holds half a character. A cut that would split a credential moves off it (see
 * cutsOffSecrets): the page then starts where the secret begins, or ends where it ends (past
 * `before`), so the redaction of the page cuts it whole.
 */
function readLogTail(
  file: string,
  tail: number,
  before: number | undefined,
  known: readonly string[],
): { exists: boolean; size_bytes: number; start: number; content: string; truncated: boolean } {
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT")
      return { exists: false, size_bytes: 0, start: 0, content: "", truncated: false };
    throw err;
  }
  try {
    const size = fs.fstatSync(fd).size;
    let end = Math.min(size, before ?? size);
    const begin = Math.max(0, end - tail);
    // The page and a margin on each side, in one read.
    const windowStart = Math.max(0, begin - SECRET_MARGIN_BYTES);
    const window = Buffer.alloc(Math.min(size, end + SECRET_MARGIN_BYTES) - windowStart);
    fs.readSync(fd, window, 0, window.length, windowStart);
    let start = begin;
    if (begin > 0) {
      const page = window.subarray(begin - windowStart, end - windowStart);
      const nl = page.indexOf(0x0a);
      // Past the first newline, when a line follows it. Otherwise the page lies inside one long line
      // (its newline, if any, is the page's last byte: cutting there would leave nothing, and the
      // page before would be this one again): past any UTF-8 continuation bytes (10xxxxxx), which
      // belong to a character the page before ends with.
      let skip = nl !== -1 && nl + 1 < page.length ? nl + 1 : 0;
      if (skip === 0) while (skip < Math.min(3, page.length) && ((page[skip] as number) & 0xc0) === 0x80) skip++;
      start = begin + skip;
    }
    if (start > 0 || end < size)
      ({ start, end } = cutsOffSecrets(window.toString("latin1"), windowStart, { start, end }, known));
    const content = window.subarray(start - windowStart, end - windowStart).toString("utf8");
    return { exists: true, size_bytes: size, start, content, truncated: start > 0 };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The end of the task's worker log (`<logs dir>/<id>.log`), at most `tail` bytes; with `before`, the
 * page of at most `tail` bytes that ends there (more only where a cut would split a credential:
 * the page then holds all of it, redacted). `path` is the
 * file's full path for an admin caller; a tenant gets only its name, since the server's
 * directories are the operator's business. Credentials the worker printed are cut (the file on
 * disk, the host's own, keeps them): anyone who may read the card may read this.
 */
export const logProcedure = taskProcedure
  .input(
    z.object({
      tail: z.number().int().min(1).max(LOG_TAIL_MAX).optional(),
      /** Read the page that ends at this byte (a previous page's `start`): the drawer pages back. */
      before: z.number().int().min(0).optional(),
    }),
  )
  .query(({ ctx, input }) => {
    const slug = ctx.slug(input.board);
    const file = path.join(logsDir(ctx.location, slug), `${input.id}.log`);
    const known = knownSecrets(ctx);
    const tail = readLogTail(file, input.tail ?? LOG_TAIL_MAX, input.before, known);
    return {
      task_id: input.id,
      path: ctx.tenant === null ? file : path.basename(file),
      ...tail,
      content: redactSecrets(tail.content, known),
    };
  });
