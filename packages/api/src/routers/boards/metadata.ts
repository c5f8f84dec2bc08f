import fs from "node:fs";
import path from "node:path";
import { type BoardMetadata, boardExists, KanbanDbError, normaliseSlug, writeBoardMetadata } from "@kanban/db";
import { invalid, scopeBoard } from "@kanban/kernel";
import { z } from "zod";
import type { KanbanContext } from "../../context.ts";
import { nameSchema } from "../../schemas.ts";

// What the procedures of `boards.*` share: the display fields, the project-directory check, the
// existence check and the description of one board as `boards.list` returns it.

export const metaFields = {
  name: nameSchema.optional(),
  description: z.string().max(4096).optional(),
  icon: z.string().max(64).optional(),
  color: z.string().max(64).optional(),
};

/** A board's project directory must be an absolute path to an existing directory (or "" to clear, on update). */
export function checkWorkdir(dir: string | undefined, allowClear: boolean): string | undefined {
  if (dir === undefined || (allowClear && dir === "")) return dir;
  if (!path.isAbsolute(dir)) throw invalid(`default_workdir must be an absolute path, got '${dir}'`);
  let isDir = false;
  try {
    isDir = fs.statSync(dir).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir) throw invalid(`default_workdir is not an existing directory: ${dir}`);
  return dir;
}

/** BOARD_NOT_FOUND unless the board exists (on PostgreSQL: its schema, read afresh). */
export async function requireBoard(ctx: KanbanContext, slug: string): Promise<void> {
  await ctx.boards.refreshBoards();
  if (!ctx.boards.exists(normaliseSlug(slug)))
    throw new KanbanDbError("BOARD_NOT_FOUND", `board '${slug}' does not exist`, { slug });
  // On PostgreSQL a board made on another host has no board.json here yet: give it one, so that
  // this home's `current` file and metadata edits can name it.
  if (ctx.boards.engine === "postgres" && !boardExists(ctx.location, slug)) writeBoardMetadata(ctx.location, slug, {});
}

/** Non-archived task counts per status, and their total; a tenant-scoped caller counts only its tasks. */
async function counts(ctx: KanbanContext, slug: string): Promise<{ counts: Record<string, number>; total: number }> {
  const rows = await scopeBoard(ctx.board(slug), { tenant: ctx.tenant }).statusCounts();
  const out: Record<string, number> = {};
  let total = 0;
  for (const r of rows) {
    out[r.status] = r.n;
    if (r.status !== "archived") total += r.n;
  }
  return { counts: out, total };
}

/** The metadata as shown: `db_path` where the rows really are (on PostgreSQL `postgres://host:port/db#schema`, no credentials). */
export function shownMetadata(ctx: KanbanContext, meta: BoardMetadata): BoardMetadata {
  return ctx.boards.engine === "postgres" ? { ...meta, db_path: ctx.boards.dbPath(meta.slug) } : meta;
}

export async function describeBoard(ctx: KanbanContext, meta: BoardMetadata, current: string) {
  // Server paths are the operator's business: a tenant-scoped caller never sees them.
  const visible = ctx.tenant === null ? shownMetadata(ctx, meta) : { ...meta, db_path: "", default_workdir: null };
  return { ...visible, is_current: meta.slug === current, ...(await counts(ctx, meta.slug)) };
}
