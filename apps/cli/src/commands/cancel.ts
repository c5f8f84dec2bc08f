import type { Command } from "commander";
import { boardArg, type Deps } from "../deps.ts";
import { toJson, taskDict } from "../output.ts";
import type { Register } from "./register.ts";

export interface CancelOptions {
  reason?: string;
  json?: boolean;
}

/**
 * `kanban cancel <id> [--reason <text>]`: stops a task for good. A running task loses its claim
 * (its worker's whole process tree is stopped: here, by the dispatcher, or by its remote host at
 * its next heartbeat) and every task goes to blocked with `cancelled: <reason>`, so a hung card is
 * not simply run again. `kanban unblock` puts it back.
 */
export async function runCancel(deps: Deps, id: string, opts: CancelOptions): Promise<number> {
  const client = await deps.client();
  const res = await client.tasks.cancel.mutate({ ...boardArg(deps), id, reason: opts.reason ?? null });
  if (opts.json) {
    deps.io.out(toJson(taskDict(res.task)));
    return 0;
  }
  deps.io.out(`Cancelled ${id}  (${res.task.status}${opts.reason ? `: ${opts.reason}` : ""})`);
  return 0;
}

export const registerCancel: Register = (program: Command, act) => {
  program
    .command("cancel")
    .summary("cancel a task: stop its worker and block it")
    .description(
      "Cancel a task: a running one loses its claim and its worker's process tree is stopped (on a remote host too); the task is blocked with 'cancelled: <reason>'. kanban unblock puts it back.",
    )
    .argument("<task_id>")
    .option("--reason <text>", "why (kept on the task as its block reason)")
    .option("--json", "print the task as JSON")
    .action(act((deps, id: string, opts: CancelOptions) => runCancel(deps, id, opts)));
};
