import fs from "node:fs";
import path from "node:path";
import { redactSecrets } from "@kanban/contract";
import { logsDir } from "@kanban/db";
import { z } from "zod";
import { knownSecrets } from "../../known-secrets.ts";
import { taskProcedure } from "../../trpc.ts";

/** Largest worker-log tail one request may read (Hermes' bound). */
export const LOG_TAIL_MAX = 2_000_000;

/** Reads the end of a worker log; a tail that starts mid-line drops that partial first line. */
function readLogTail(
  file: string,
  tail: number,
): { exists: boolean; size_bytes: number; content: string; truncated: boolean } {
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT")
      return { exists: false, size_bytes: 0, content: "", truncated: false };
    throw err;
  }
  try {
    const size = fs.fstatSync(fd).size;
    const length = Math.min(size, tail);
    const buf = Buffer.alloc(length);
    fs.readSync(fd, buf, 0, length, size - length);
    let content = buf.toString("utf8");
    const truncated = length < size;
    if (truncated) {
      const nl = content.indexOf("\n");
      if (nl !== -1) content = content.slice(nl + 1);
    }
    return { exists: true, size_bytes: size, content, truncated };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The end of the task's worker log (`<logs dir>/<id>.log`), at most `tail` bytes. `path` is the
 * file's full path for an admin caller; a tenant gets only its name, since the server's
 * directories are the operator's business. Credentials the worker printed are cut (the file on
 * disk, the host's own, keeps them): anyone who may read the card may read this.
 */
export const logProcedure = taskProcedure
  .input(z.object({ tail: z.number().int().min(1).max(LOG_TAIL_MAX).optional() }))
  .query(({ ctx, input }) => {
    const slug = ctx.slug(input.board);
    const file = path.join(logsDir(ctx.location, slug), `${input.id}.log`);
    const tail = readLogTail(file, input.tail ?? LOG_TAIL_MAX);
    return {
      task_id: input.id,
      path: ctx.tenant === null ? file : path.basename(file),
      ...tail,
      content: redactSecrets(tail.content, knownSecrets(ctx)),
    };
  });
