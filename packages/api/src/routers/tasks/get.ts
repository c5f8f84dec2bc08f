import { taskProcedure } from "../../trpc.ts";
import { failureLimit } from "./shared.ts";

/** The task drawer: task with extras, comments, last 200 events, runs, links, child results, worker context, diagnostics (the kernel's taskDetail). */
export const getProcedure = taskProcedure.query(({ ctx }) =>
  ctx.board.taskDetail(ctx.task, { failureLimit: failureLimit(ctx), knownProfiles: ctx.knownProfiles()?.names }),
);
