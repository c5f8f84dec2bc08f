import { boardArg, type Deps } from "../deps.ts";
import { CliFailure, errorCode } from "../errors.ts";
import { profileOrNull } from "./parse.ts";
import type { Register } from "./register.ts";

export async function runAssign(deps: Deps, id: string, profile: string): Promise<number> {
  const who = profileOrNull(profile);
  const client = await deps.client();
  await client.tasks.patch.mutate({ ...boardArg(deps), id, assignee: who });
  deps.io.out(`Assigned ${id} to ${who ?? "(unassigned)"}`);
  return 0;
}

export async function runReclaim(deps: Deps, id: string, opts: { reason?: string }): Promise<number> {
  const client = await deps.client();
  try {
    await client.tasks.reclaim.mutate({ ...boardArg(deps), id, reason: opts.reason ?? null });
  } catch (err) {
    const code = errorCode(err);
    if (code === "WRONG_STATE" || code === "NOT_FOUND")
      throw new CliFailure(`cannot reclaim ${id} (not running or unknown id)`);
    throw err;
  }
  deps.io.out(`Reclaimed ${id}`);
  return 0;
}

export async function runReassign(
  deps: Deps,
  id: string,
  profile: string,
  opts: { reclaim?: boolean; reason?: string },
): Promise<number> {
  const who = profileOrNull(profile);
  const client = await deps.client();
  try {
    await client.tasks.reassign.mutate({
      ...boardArg(deps),
      id,
      profile: who,
      reclaim_first: opts.reclaim ?? false,
      reason: opts.reason ?? null,
    });
  } catch (err) {
    const code = errorCode(err);
    if (code === "WRONG_STATE" || code === "NOT_FOUND") {
      throw new CliFailure(`cannot reassign ${id} (unknown id, or still running — pass --reclaim to release first)`);
    }
    throw err;
  }
  deps.io.out(`Reassigned ${id} to ${who ?? "(unassigned)"}${opts.reclaim ? " (claim reclaimed)" : ""}`);
  return 0;
}

export async function runLink(deps: Deps, parent: string, child: string): Promise<number> {
  const client = await deps.client();
  const res = await client.links.add.mutate({ ...boardArg(deps), parent_id: parent, child_id: child });
  deps.io.out(`Linked ${parent} -> ${child}`);
  if (res.demoted) deps.io.out(`(${child} moved back to todo until ${parent} is done)`);
  return 0;
}

export async function runUnlink(deps: Deps, parent: string, child: string): Promise<number> {
  const client = await deps.client();
  const res = await client.links.remove.mutate({ ...boardArg(deps), parent_id: parent, child_id: child });
  if (!res.ok) throw new CliFailure(`No such link: ${parent} -> ${child}`);
  deps.io.out(`Unlinked ${parent} -> ${child}`);
  return 0;
}

export const registerRouting: Register = (program, act) => {
  program
    .command("assign")
    .summary("set a task's assignee (none, - or null unassigns)")
    .argument("<task_id>")
    .argument("<profile>")
    .action(act((deps, id: string, profile: string) => runAssign(deps, id, profile)));

  program
    .command("reclaim")
    .summary("take a running task back now (its worker is stopped) and return it to ready")
    .argument("<task_id>")
    .option("--reason <text>", "why, recorded on the task")
    .action(act((deps, id: string, opts: { reason?: string }) => runReclaim(deps, id, opts)));

  program
    .command("reassign")
    .summary("give a task to another profile")
    .argument("<task_id>")
    .argument("<profile>")
    .option("--reclaim", "release a running task's claim first")
    .option("--reason <text>", "why, recorded on the task")
    .action(
      act((deps, id: string, profile: string, opts: { reclaim?: boolean; reason?: string }) =>
        runReassign(deps, id, profile, opts),
      ),
    );

  program
    .command("link")
    .summary("make child wait for parent")
    .argument("<parent_id>")
    .argument("<child_id>")
    .action(act((deps, parent: string, child: string) => runLink(deps, parent, child)));

  program
    .command("unlink")
    .summary("remove a dependency")
    .argument("<parent_id>")
    .argument("<child_id>")
    .action(act((deps, parent: string, child: string) => runUnlink(deps, parent, child)));
};
