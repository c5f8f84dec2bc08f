import { boardArg, type Deps } from "../deps.ts";
import { CliFailure, errorCode } from "../errors.ts";
import { toJson } from "../output.ts";
import type { Register } from "./register.ts";

/**
 * `kanban why <id>`: why the task is (not) moving and what to do next, the API's `tasks.why` (the
 * kernel's motion with this host's facts): the same code and line as the board's card and the
 * `kanban_why` tool. Text: the line, then `next:` and `code:`; `--json` the whole motion.
 */
export async function runWhy(deps: Deps, id: string, opts: { json?: boolean }): Promise<number> {
  const client = await deps.client();
  let motion: Awaited<ReturnType<typeof client.tasks.why.query>>;
  try {
    motion = await client.tasks.why.query({ ...boardArg(deps), id });
  } catch (err) {
    if (errorCode(err) === "NOT_FOUND") throw new CliFailure(`no such task: ${id}`);
    throw err;
  }
  if (opts.json) {
    deps.io.out(toJson(motion));
    return 0;
  }
  deps.io.out(motion.line);
  deps.io.out(`next: ${motion.next}`);
  deps.io.out(`code: ${motion.code}${motion.moving ? " (moving)" : ""}`);
  return 0;
}

export const registerWhy: Register = (program, act) => {
  program
    .command("why")
    .summary("say why a task is or is not moving, and what to do next")
    .argument("<task_id>")
    .option("--json", "print the motion as JSON: moving, code, line, next, detail")
    .action(act((deps, id: string, opts: { json?: boolean }) => runWhy(deps, id, opts)));
};
