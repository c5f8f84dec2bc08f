import os from "node:os";
import { boardArg, currentAuthor, type Deps, fenceFor } from "../deps.ts";
import { CliFailure, UsageError } from "../errors.ts";
import { gatedLine } from "./gates.ts";
import { refusal } from "./lifecycle.ts";
import { parseMetadata } from "./parse.ts";
import type { Register } from "./register.ts";

// `kanban review request|approve|changes|reopen` (Hermes B's review lane). Inside a worker the calls
// on its own task carry its run (KANBAN_RUN_ID), like complete and block. Each verb prints one line,
// or one `kanban: cannot …` line and exits 1 when the board refuses.

function words(parts: string[] | undefined): string | null {
  const text = (parts ?? []).join(" ").trim();
  return text === "" ? null : text;
}

/** Runs one verb on one task: its line on success, its refusal (exit 1) otherwise. */
async function one(deps: Deps, verb: string, id: string, fn: () => Promise<string>): Promise<number> {
  try {
    deps.io.out(await fn());
    return 0;
  } catch (err) {
    deps.io.err(`kanban: ${refusal(verb, id, err)}`);
    return 1;
  }
}

export interface RequestOptions {
  reviewer?: string;
  summary?: string;
  metadata?: string;
  force?: boolean;
}

export async function runReviewRequest(deps: Deps, id: string, opts: RequestOptions): Promise<number> {
  const metadata = parseMetadata(opts.metadata);
  const client = await deps.client();
  return one(deps, "request review of", id, async () => {
    const { task } = await client.tasks.requestReview.mutate({
      ...boardArg(deps),
      id,
      reviewer: opts.reviewer ?? null,
      summary: opts.summary ?? null,
      metadata: metadata ?? null,
      force: opts.force === true,
      ...fenceFor(deps, id),
    });
    return `${id} → review (reviewer ${task.assignee ?? "?"})`;
  });
}

/** Who approves from this CLI: `--as`, else the operating system's user name. */
export function approverName(as: string | undefined): string {
  const given = as?.trim();
  if (given) return given.slice(0, 200);
  try {
    return os.userInfo().username.slice(0, 200) || "user";
  } catch {
    // No passwd entry (a container's numeric uid): still someone.
    return "user";
  }
}

export async function runReviewApprove(
  deps: Deps,
  id: string,
  opts: { summary?: string; as?: string },
): Promise<number> {
  const client = await deps.client();
  return one(deps, "approve", id, async () => {
    const current = (await client.tasks.get.query({ ...boardArg(deps), id })).task;
    // Approval is the completion of a card in review, or a reviewer worker's of the run it holds on
    // its own task (fenced); a person never "approves" a card a worker is still running.
    const ownRun = Object.keys(fenceFor(deps, id)).length > 0;
    if (current.status !== "review" && !(current.status === "running" && ownRun)) {
      throw new CliFailure(`cannot approve ${id}: status is '${current.status}' (not in review)`);
    }
    // A person's approval names them (kept as the approval gate's evidence); a reviewer run's is its own.
    const approvedBy = ownRun && opts.as === undefined ? {} : { approved_by: approverName(opts.as) };
    const res = await client.tasks.complete.mutate({
      ...boardArg(deps),
      id,
      summary: opts.summary ?? null,
      ...approvedBy,
      ...fenceFor(deps, id),
    });
    if ("gated" in res) return `Approved ${id}; ${gatedLine(id, res.gated)}`;
    return `Approved ${id} → done`;
  });
}

export async function runReviewChanges(deps: Deps, id: string, reasonWords: string[]): Promise<number> {
  const reason = words(reasonWords);
  if (reason === null) throw new UsageError("say what should change: kanban review changes <task_id> <reason...>");
  const client = await deps.client();
  return one(deps, "request changes on", id, async () => {
    const { task } = await client.tasks.requestChanges.mutate({
      ...boardArg(deps),
      id,
      reason,
      comment_author: currentAuthor(deps),
      ...fenceFor(deps, id),
    });
    return `${id} → ${task.status} (back to ${task.assignee ?? "its implementer"}): ${reason}`;
  });
}

export async function runReviewReopen(deps: Deps, id: string, opts: { reason?: string }): Promise<number> {
  const client = await deps.client();
  return one(deps, "reopen review of", id, async () => {
    const { task } = await client.tasks.reopenReview.mutate({
      ...boardArg(deps),
      id,
      reason: opts.reason ?? null,
      comment_author: currentAuthor(deps),
    });
    return `${id} → ${task.status} (out of review, back to ${task.assignee ?? "unassigned"})`;
  });
}

export const registerReview: Register = (program, act) => {
  const review = program
    .command("review")
    .summary("the review lane: hand work to a reviewer, approve it or send it back")
    .description(
      "request: the implementer hands a task to a reviewer profile (status review, the reviewer becomes the assignee). " +
        "approve: complete a card in review. changes: the reviewer run sends it back to the implementer with a reason. " +
        "reopen: a person takes a card out of review without a reviewer run.",
    );
  review
    .command("request")
    .summary("hand a running or ready task to a reviewer")
    .argument("<task_id>")
    .option("--reviewer <profile>", "who reviews (default: the reviewer of the last round)")
    .option("--summary <text>", "what the reviewer should look at")
    .option("--metadata <json>", "facts as a JSON object")
    .option("--force", "hand over a task a live worker holds (the worker is stopped)")
    .action(act((deps, id: string, opts: RequestOptions) => runReviewRequest(deps, id, opts)));
  review
    .command("approve")
    .summary("approve a card in review (it becomes done)")
    .argument("<task_id>")
    .option("--summary <text>", "the approval note")
    .option("--as <name>", "who approves, kept on the card (default: your user name)")
    .action(act((deps, id: string, opts: { summary?: string; as?: string }) => runReviewApprove(deps, id, opts)));
  review
    .command("changes")
    .summary("send a reviewed task back to its implementer (a reviewer run's call)")
    .argument("<task_id>")
    .argument("<reason...>", "what should change")
    .action(act((deps, id: string, reason: string[]) => runReviewChanges(deps, id, reason)));
  review
    .command("reopen")
    .summary("take a card out of review (back to its implementer)")
    .argument("<task_id>")
    .option("--reason <text>", "recorded as a comment 'CHANGES REQUESTED: <reason>'")
    .action(act((deps, id: string, opts: { reason?: string }) => runReviewReopen(deps, id, opts)));
};
