import fs from "node:fs";
import path from "node:path";
import { logsDir, workspacesRoot } from "@kanban/db";
import { z } from "zod";
import { withBoard } from "../schemas.ts";
import { adminProcedure, router } from "../trpc.ts";

const DAY = 86_400;

/** Whether `child` lies strictly inside `root` (lexically and after resolving links). */
function strictlyInside(root: string, child: string): boolean {
  const inside = (r: string, c: string) => {
    const rel = path.relative(r, c);
    return rel !== "" && !rel.startsWith("..") && !path.isAbsolute(rel);
  };
  if (!inside(path.resolve(root), path.resolve(child))) return false;
  try {
    return inside(fs.realpathSync(root), fs.realpathSync(child));
  } catch {
    return false;
  }
}

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
    .mutation(({ ctx, input }) => {
      const board = ctx.board(input.board);
      const slug = board.slug ?? "default";
      const now = board.now();
      const events = board.gcEvents(input.event_retention_days * DAY);

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

      let workspaces = 0;
      const root = workspacesRoot(ctx.location, slug);
      const archived = board.archivedScratchTasks();
      for (const t of archived) {
        // Only the task's own scratch directory: a recorded workspace_path may name another task's
        // live directory (a row written by Hermes or before callers were refused one).
        const dir = path.join(root, t.id);
        if (fs.existsSync(dir) && strictlyInside(root, dir)) {
          fs.rmSync(dir, { recursive: true, force: true });
          workspaces++;
        }
      }
      return { workspaces, events, logs };
    }),
});
