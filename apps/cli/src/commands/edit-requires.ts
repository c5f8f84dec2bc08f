import { boardArg, type Deps } from "../deps.ts";
import { requiresArg } from "./create.ts";
import { type EditOptions, runEdit } from "./lifecycle.ts";
import type { Register } from "./register.ts";

interface EditRequiresOptions extends EditOptions {
  requires?: string[];
}

/**
 * `kanban edit <id> --requires macos,xcode` (`--requires ""` clears them): the labels a host must
 * have to claim the task. The `edit` verb itself is declared with the lifecycle verbs; this adds
 * the option to it (registered after them) and handles it, handing every other case to `runEdit`.
 * With title, body or priority the labels go in the same patch (one transaction: a refused label
 * changes nothing); with a done task's new result, the result is written first, then the labels.
 */
export async function runEditRequires(deps: Deps, id: string, opts: EditRequiresOptions): Promise<number> {
  const { requires, ...rest } = opts;
  const handoff = rest.result !== undefined || rest.summary !== undefined || rest.metadata !== undefined;
  if (requires === undefined || handoff) return await runEditThenRequires(deps, id, rest, requires);
  const fields = Object.fromEntries(
    Object.entries({ title: rest.title, body: rest.body, priority: rest.priority }).filter(([, v]) => v !== undefined),
  );
  const client = await deps.client();
  const { task } = await client.tasks.patch.mutate({ ...boardArg(deps), id, ...fields, requires });
  const now = (task as { requires?: string[] }).requires ?? requires;
  deps.io.out(`Edited ${id}  (requires=${now.length > 0 ? now.join(",") : "none"})`);
  return 0;
}

/** `runEdit` (its checks and its writes), then the labels when there are any to write. */
async function runEditThenRequires(
  deps: Deps,
  id: string,
  rest: EditOptions,
  requires: string[] | undefined,
): Promise<number> {
  const code = await runEdit(deps, id, rest);
  if (requires === undefined || code !== 0) return code;
  const client = await deps.client();
  await client.tasks.patch.mutate({ ...boardArg(deps), id, requires });
  return code;
}

export const registerEditRequires: Register = (program, act) => {
  const edit = program.commands.find((c) => c.name() === "edit");
  if (edit === undefined) throw new Error("registerEditRequires runs after the lifecycle verbs");
  edit
    .option(
      "--requires <labels>",
      'labels a host must have to run it, comma-separated; "" for none (replaces the list)',
      requiresArg,
    )
    .action(act((deps, id: string, opts: EditRequiresOptions) => runEditRequires(deps, id, opts)));
};
