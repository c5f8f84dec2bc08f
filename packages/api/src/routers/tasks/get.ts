import { taskDetail } from "../../queries/task-detail.ts";
import { publicProcedure } from "../../trpc.ts";
import { failureLimit, idInput } from "./shared.ts";

/** The task drawer: task with extras, comments, last 200 events, runs, links, child results, worker context, diagnostics. */
export const getProcedure = publicProcedure
  .input(idInput)
  .query(({ ctx, input }) => taskDetail(ctx, ctx.board(input.board), input.id, failureLimit(ctx)));
