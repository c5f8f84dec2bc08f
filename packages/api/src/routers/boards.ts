import fs from "node:fs";
import path from "node:path";
import {
  type BoardMetadata,
  boardExists,
  createBoard,
  currentBoard,
  KanbanDbError,
  listBoards,
  normaliseSlug,
  removeBoard,
  setCurrentBoard,
  writeBoardMetadata,
} from "@kanban/db";
import { invalid } from "@kanban/kernel";
import { z } from "zod";
import type { KanbanContext } from "../context.ts";
import { boardSlugSchema, nameSchema } from "../schemas.ts";
import { adminProcedure, publicProcedure, router } from "../trpc.ts";

const metaFields = {
  name: nameSchema.optional(),
  description: z.string().max(4096).optional(),
  icon: z.string().max(64).optional(),
  color: z.string().max(64).optional(),
};

/** A board's project directory must be an absolute path to an existing directory (or "" to clear, on update). */
function checkWorkdir(dir: string | undefined, allowClear: boolean): string | undefined {
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

function requireBoard(ctx: KanbanContext, slug: string): void {
  if (!boardExists(ctx.location, slug))
    throw new KanbanDbError("BOARD_NOT_FOUND", `board '${slug}' does not exist`, { slug });
}

/** Non-archived task counts per status, and their total; a tenant-scoped caller counts only its tasks. */
function counts(ctx: KanbanContext, slug: string): { counts: Record<string, number>; total: number } {
  const board = ctx.board(slug);
  const rows = board.statusCounts(ctx.tenant);
  const out: Record<string, number> = {};
  let total = 0;
  for (const r of rows) {
    out[r.status] = r.n;
    if (r.status !== "archived") total += r.n;
  }
  return { counts: out, total };
}

function describe(ctx: KanbanContext, meta: BoardMetadata, current: string) {
  // Server paths are the operator's business: a tenant-scoped caller never sees them.
  const visible = ctx.tenant === null ? meta : { ...meta, db_path: "", default_workdir: null };
  return { ...visible, is_current: meta.slug === current, ...counts(ctx, meta.slug) };
}

export const boardsRouter = router({
  /** Every board (default first) with `is_current`, counts per status and the non-archived total. */
  list: publicProcedure
    .input(z.object({ include_archived: z.boolean().default(false) }).prefault({}))
    .query(({ ctx, input }) => {
      const current = currentBoard(ctx.location);
      const boards = listBoards(ctx.location, { includeArchived: input.include_archived }).map((m) =>
        describe(ctx, m, current),
      );
      return { boards, current };
    }),

  /** Creates a board (idempotent); `switch` also makes it the current board. */
  create: adminProcedure
    .input(
      z.object({
        slug: boardSlugSchema,
        ...metaFields,
        default_workdir: z.string().max(4096).optional(),
        switch: z.boolean().default(false),
      }),
    )
    .mutation(({ ctx, input }) => {
      const { slug, switch: makeCurrent, default_workdir, ...meta } = input;
      const board = createBoard(ctx.location, slug, {
        ...meta,
        ...(default_workdir !== undefined ? { default_workdir: checkWorkdir(default_workdir, false) } : {}),
      });
      if (makeCurrent) setCurrentBoard(ctx.location, slug);
      // Re-creating with a new project directory must reach an already open board.
      if (default_workdir !== undefined) ctx.boards.evict(slug);
      return { board, current: currentBoard(ctx.location) };
    }),

  /** Edits display metadata; `default_workdir: ""` clears the project directory. */
  update: adminProcedure
    .input(z.object({ slug: boardSlugSchema, ...metaFields, default_workdir: z.string().max(4096).optional() }))
    .mutation(({ ctx, input }) => {
      const { slug, default_workdir, ...meta } = input;
      requireBoard(ctx, slug);
      const board = writeBoardMetadata(ctx.location, slug, {
        ...meta,
        ...(default_workdir !== undefined ? { default_workdir: checkWorkdir(default_workdir, true) } : {}),
      });
      // The open board caches its project directory; reopen it with the new one.
      if (default_workdir !== undefined) ctx.boards.evict(slug);
      return { board };
    }),

  /** Archives a board (or deletes it with `delete`); the default board is refused (400). */
  remove: adminProcedure
    .input(z.object({ slug: boardSlugSchema, delete: z.boolean().default(false) }))
    .mutation(({ ctx, input }) => {
      const slug = normaliseSlug(input.slug);
      if (slug !== "default" && !ctx.location.dbOverride) {
        ctx.live.stopBoard(ctx.boards.dbPath(slug));
        ctx.boards.evict(slug);
      }
      const result = removeBoard(ctx.location, slug, { archive: !input.delete });
      return { result, current: currentBoard(ctx.location) };
    }),

  /** Makes a board the current one (what the CLI uses when no board is named). */
  switch: adminProcedure.input(z.object({ slug: boardSlugSchema })).mutation(({ ctx, input }) => {
    requireBoard(ctx, input.slug);
    setCurrentBoard(ctx.location, input.slug);
    return { current: currentBoard(ctx.location) };
  }),
});
