import fs from "node:fs";
import path from "node:path";
import { logsDir } from "@kanban/db";
import { cleanupScratch } from "@kanban/workspace";
import { z } from "zod";
import { withBoard } from "../schemas.ts";
import { adminProcedure, router } from "../trpc.ts";

const DAY = 86_400;

export const maintenanceRouter = router({
  /**
   * `kanban gc`: deletes events older than the retention of done/archived tasks, worker logs older
   * than theirs, and the scratch workspaces of archived tasks — only directories strictly inside the
   * board's managed workspaces root (a path anywhere else is never touched).
   */
  gc: adminProcedure
    .input(
      z
        .object({
          ...withBoard,
          event_retention_days: z.number().int().min(0).max(36_500).default(30),
          log_retention_days: z.number().int().min(0).max(36_500).default(30),
        })
        .prefault({}),
    )
    .mutation(async ({ ctx, input }) => {
      const board = ctx.board(input.board);
      const slug = board.slug ?? "default";
      const now = board.now();
      const events = await board.gcEvents(input.event_retention_days * DAY);

      let logs = 0;
      const logDir = logsDir(ctx.location, slug);
      const logCutoff = (now - input.log_retention_days * DAY) * 1000;
      for (const name of fs.existsSync(logDir) ? fs.readdirSync(logDir) : []) {
        const file = path.join(logDir, name);
        try {
          const st = fs.statSync(file);
          if (st.isFile() && /\.log(\.\d+)?$/.test(name) && st.mtimeMs < logCutoff) {
            fs.rmSync(file);
            logs++;
          }
        } catch {
          // vanished meanwhile: nothing to remove
        }
      }

      // Only each task's own <root>/<id> (never its recorded workspace_path, which may name another
      // task's live directory): the same rule the dispatcher applies when a scratch task finishes.
      let workspaces = 0;
      for (const t of await board.archivedScratchTasks()) {
        if (cleanupScratch(t, { location: ctx.location, board: slug }) === "removed") workspaces++;
      }
      return { workspaces, events, logs };
    }),
});
