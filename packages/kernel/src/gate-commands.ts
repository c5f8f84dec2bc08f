import { recordComment } from "./activity.ts";
import { blockTask } from "./block.ts";
import { recordTaskFailure } from "./breaker.ts";
import type { BoardContext } from "./context.ts";
import { notFound, wrongState } from "./errors.ts";
import { addEvidence, askApproval } from "./gate-rounds.ts";
import { GATE_LIMITS, type GateCommand, gatesFor, nextStage, type VerificationStage } from "./gates.ts";
import { recomputeChildren } from "./graph.ts";
import { parentsSatisfied } from "./store/sqlite/dependencies.ts";
import { appendEvent } from "./store/sqlite/events.ts";
import {
  claimCommands,
  commandRoundRows,
  endVerification,
  passedInRound,
  reassignInReview,
  setVerificationStage,
  verificationRow,
} from "./store/sqlite/gates.ts";
import { returnToImplementer } from "./store/sqlite/review.ts";
import { getTask, requireTask, settleDone } from "./store/sqlite/tasks.ts";
import type { Task } from "./types.ts";

// The acceptance commands: listed, claimed and reported by the dispatcher.

export interface CommandRound {
  task: Task;
  round: number;
  commands: GateCommand[];
  /** Where the commands run: the workspace the card's worker used. */
  workspace: { kind: string | null; path: string | null; branch: string | null };
}

/**
 * Rounds whose commands wait for a runner: every one, or only those whose change was made on
 * `host_id` (null: the board's own machine; a remote host's id) when it is given.
 */
export async function pendingCommandRounds(
  ctx: BoardContext,
  opts: { host_id?: string | null | undefined; limit?: number } = {},
): Promise<CommandRound[]> {
  const rows = await commandRoundRows(ctx, {
    host_id: opts.host_id,
    now: ctx.now(),
    limit: Math.max(1, Math.min(100, Math.floor(opts.limit ?? 20))),
  });
  const out: CommandRound[] = [];
  for (const { task, verification } of rows) {
    const spec = await gatesFor(ctx, task, verification.implementer);
    out.push({
      task,
      round: verification.round,
      commands: spec?.spec.commands ?? [],
      workspace: { kind: task.workspace_kind, path: task.workspace_path, branch: task.branch_name },
    });
  }
  return out;
}

/** Takes a round's commands for this runner for `lease_seconds`; false when another has them. */
export async function claimCommandRound(
  ctx: BoardContext,
  taskId: string,
  round: number,
  opts: { claimer: string; lease_seconds: number },
): Promise<boolean> {
  const now = ctx.now();
  return await ctx.tx(
    async () =>
      await claimCommands(ctx, {
        task_id: taskId,
        round,
        lock: opts.claimer,
        expires: now + Math.max(1, Math.floor(opts.lease_seconds)),
        now,
      }),
  );
}

export interface CommandResult {
  name: string;
  argv: string[];
  /** `passed` (exit 0), `failed` (another exit code, a signal or the timeout), `error` (it could not start). */
  outcome: "passed" | "failed" | "error";
  exit_code: number | null;
  signal?: string | null;
  timed_out?: boolean;
  duration_ms: number;
  /** The end of its combined output. */
  output_tail: string;
  error?: string | null;
}

export interface ChangeEvidence {
  base: string | null;
  files: { path: string; status: string }[];
  diff: string;
  truncated: boolean;
}

function tail(text: string, max: number): string {
  return text.length <= max ? text : `…${text.slice(text.length - max)}`;
}

/**
 * Records what a round's commands found (and the change they judged), then moves the card on: every
 * command passed → the next gate (or done); one failed → back to the implementer with the evidence
 * as a comment, counted as a `gate_failed` failure. Refused when the round is no longer the runner's.
 */
export async function reportCommandRound(
  ctx: BoardContext,
  taskId: string,
  round: number,
  input: { claimer: string; results: CommandResult[]; change?: ChangeEvidence | null },
): Promise<{ task: Task; passed: boolean; stage: VerificationStage | "done" | "returned" }> {
  const out = await ctx.tx(async () => {
    const v = await verificationRow(ctx, taskId);
    const task = await getTask(ctx, taskId);
    if (!task) throw notFound(`task ${taskId} not found`, { task_id: taskId });
    if (v === null || v.round !== round || v.stage !== "commands" || task.status !== "review")
      throw wrongState(`the acceptance commands of ${taskId} round ${round} are no longer awaited`, {
        task_id: taskId,
      });
    if (v.runner !== input.claimer)
      throw wrongState(`the acceptance commands of ${taskId} round ${round} are another runner's`, { task_id: taskId });
    for (const r of input.results) {
      await addEvidence(ctx, taskId, round, {
        gate: "command",
        name: r.name,
        outcome: r.outcome,
        detail: {
          argv: r.argv,
          exit_code: r.exit_code,
          signal: r.signal ?? null,
          timed_out: r.timed_out === true,
          duration_ms: Math.round(r.duration_ms),
          ...(r.error ? { error: r.error.slice(0, 500) } : {}),
        },
        body: tail(r.output_tail, GATE_LIMITS.output_tail_chars),
      });
    }
    if (input.change) {
      const diff = input.change.diff.slice(0, GATE_LIMITS.diff_chars);
      await addEvidence(ctx, taskId, round, {
        gate: "change",
        name: input.change.base ? `against ${input.change.base.slice(0, 12)}` : "working tree",
        outcome: "recorded",
        detail: {
          base: input.change.base,
          files: input.change.files.slice(0, GATE_LIMITS.files),
          truncated: input.change.truncated || diff.length < input.change.diff.length,
        },
        body: diff,
      });
    }
    const failed = input.results.filter((r) => r.outcome !== "passed");
    const spec = await gatesFor(ctx, task, v.implementer);
    if (failed.length === 0) {
      const passed = await passedInRound(ctx, taskId, round);
      passed.add("command");
      const stage = spec === null ? null : nextStage(spec.spec, passed);
      await appendEvent(ctx, taskId, "gate_passed", { round, gate: "command", stage: stage ?? "done" }, round);
      if (stage === null) {
        await endVerification(ctx, taskId);
        const done = await settleDone(ctx, taskId, {
          from: "review",
          runId: task.current_run_id,
          result: task.result,
          completedAt: ctx.now(),
        });
        if (done === null)
          throw wrongState(`cannot complete ${taskId}: it changed state concurrently`, { task_id: taskId });
        await appendEvent(
          ctx,
          taskId,
          "completed",
          { result_len: task.result?.length ?? 0, summary: null, gates: "passed" },
          round,
        );
        return { task: done, passed: true, stage: "done" as const };
      }
      await setVerificationStage(ctx, taskId, stage);
      await askApproval(ctx, taskId, stage, round, v.implementer);
      if (stage === "reviewer") await reassignInReview(ctx, taskId, spec?.spec.reviewer ?? null);
      return { task: await requireTask(ctx, taskId), passed: true, stage };
    }
    // Back to the implementer with what failed.
    const to = (await parentsSatisfied(ctx, taskId)) ? "ready" : "todo";
    if (
      !(await returnToImplementer(ctx, "gate_failed", taskId, {
        from: "review",
        to,
        implementer: v.implementer,
        runId: task.current_run_id,
      }))
    )
      throw wrongState(`cannot return ${taskId}: it changed state concurrently`, { task_id: taskId });
    await endVerification(ctx, taskId);
    const names = failed.map((r) => r.name);
    await appendEvent(ctx, taskId, "gate_failed", { round, gate: "command", failed: names, status: to }, round);
    await recordComment(ctx, taskId, "kanban-gates", failureComment(failed));
    const unrunnable = failed.filter((r) => r.outcome === "error");
    if (unrunnable.length > 0) {
      // A command that could not start (a missing program, a workspace not on the runner's machine)
      // is no fault of the work: another run would meet it again. A person fixes it and unblocks.
      if (to === "ready") {
        const why = unrunnable.map((r) => `${r.name}: ${r.error ?? "could not start"}`).join("; ");
        await blockTask(ctx, taskId, {
          reason: `acceptance commands could not run (${why.slice(0, 300)}); fix the command or the host, then unblock`,
        });
      }
    } else {
      const error = `acceptance command${failed.length > 1 ? "s" : ""} failed: ${names.join(", ")}`;
      await recordTaskFailure(ctx, taskId, { error, outcome: "gate_failed", extra: { failure_class: "gate_failed" } });
    }
    return { task: await requireTask(ctx, taskId), passed: false, stage: "returned" as const };
  });
  if (out.stage === "done") await recomputeChildren(ctx, taskId);
  return out;
}

function failureComment(failed: CommandResult[]): string {
  const parts = ["GATE FAILED: the acceptance commands did not pass; fix the work and complete it again."];
  for (const r of failed) {
    const how =
      r.outcome === "error"
        ? `could not start (${r.error ?? "unknown error"})`
        : r.timed_out
          ? "timed out"
          : r.signal
            ? `was killed by ${r.signal}`
            : `exited ${r.exit_code}`;
    parts.push(`\n$ ${r.argv.join(" ")}\n${r.name} ${how}. Last output:\n\`\`\`\n${tail(r.output_tail, 2000)}\n\`\`\``);
  }
  return parts.join("\n");
}
