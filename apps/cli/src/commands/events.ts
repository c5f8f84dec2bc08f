import type { RouterOutputs } from "@kanban/api/client";
import { boardArg, type Deps } from "../deps.ts";
import { CliFailure, errorCode } from "../errors.ts";
import { formatTime, payloadText } from "../output.ts";
import { numberArg } from "./parse.ts";
import type { Register } from "./register.ts";

type TaskEvent = RouterOutputs["events"]["list"]["events"][number];

interface StreamFilter {
  task_id?: string;
  assignee?: string;
  tenant?: string;
  kinds?: string[];
}

/**
 * Follows the live event subscription (SSE remotely, the in-process stream locally) from now on,
 * handing each event to `print` in order, until the stop signal fires (→ 0) or the stream fails.
 */
async function follow(
  deps: Deps,
  filter: StreamFilter,
  print: (e: TaskEvent) => Promise<void> | void,
): Promise<number> {
  const client = await deps.client();
  const signal = deps.stopSignal();
  let chain = Promise.resolve();
  // The in-process event watcher's timer does not hold the process open (it is unref'd), so
  // following would end with an empty event loop; this timer keeps us alive until stopped.
  const keepAlive = setInterval(() => {}, 1 << 30);
  try {
    await stream(client, deps, filter, signal, (e) => {
      chain = chain.then(() => print(e));
      return chain;
    });
  } finally {
    clearInterval(keepAlive);
  }
  await chain;
  deps.io.out("(stopped)");
  return 0;
}

/** Resolves when `signal` fires or the stream completes; rejects on a stream error or a failed print. */
function stream(
  client: Awaited<ReturnType<Deps["client"]>>,
  deps: Deps,
  filter: StreamFilter,
  signal: AbortSignal,
  onEvent: (e: TaskEvent) => Promise<void>,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const sub = client.events.subscribe.subscribe(
      { ...boardArg(deps), ...filter },
      {
        onData: (event) => {
          onEvent(event.data).catch(reject);
        },
        onError: (err) => {
          sub.unsubscribe();
          reject(err);
        },
        onComplete: () => resolve(),
      },
    );
    signal.addEventListener(
      "abort",
      () => {
        sub.unsubscribe();
        resolve();
      },
      { once: true },
    );
  });
}

export async function runTail(deps: Deps, id: string): Promise<number> {
  const client = await deps.client();
  try {
    // Fails fast on an unknown id, before the header promises a stream.
    await client.events.list.query({ ...boardArg(deps), task_id: id, limit: 1 });
  } catch (err) {
    if (errorCode(err) === "NOT_FOUND") throw new CliFailure(`no such task: ${id}`);
    throw err;
  }
  deps.io.out(`Tailing events for ${id}. Ctrl-C to stop.`);
  return follow(deps, { task_id: id }, (e) =>
    deps.io.out(`[${formatTime(e.created_at)}] ${e.kind} ${payloadText(e.payload)}`.trimEnd()),
  );
}

export interface WatchOptions {
  assignee?: string;
  tenant?: string;
  kinds?: string;
}

export async function runWatch(deps: Deps, opts: WatchOptions): Promise<number> {
  const client = await deps.client();
  const kinds = opts.kinds
    ?.split(",")
    .map((k) => k.trim())
    .filter((k) => k !== "");
  const assignees = new Map<string, string | null>();
  const assigneeOf = async (taskId: string): Promise<string | null> => {
    if (!assignees.has(taskId)) {
      try {
        assignees.set(taskId, (await client.tasks.get.query({ ...boardArg(deps), id: taskId })).task.assignee);
      } catch {
        // Deleted since the event was written: print the event without an assignee.
        assignees.set(taskId, null);
      }
    }
    return assignees.get(taskId) ?? null;
  };
  deps.io.out("Watching board events. Ctrl-C to stop.");
  return follow(
    deps,
    {
      ...(opts.assignee ? { assignee: opts.assignee } : {}),
      ...(opts.tenant ? { tenant: opts.tenant } : {}),
      ...(kinds && kinds.length > 0 ? { kinds } : {}),
    },
    async (e) => {
      const who = await assigneeOf(e.task_id);
      deps.io.out(
        `[${formatTime(e.created_at)}] ${e.task_id.padEnd(10)} ${e.kind.padEnd(18)} (@${who ?? "-"}) ${payloadText(e.payload)}`.trimEnd(),
      );
    },
  );
}

export const registerEvents: Register = (program, act) => {
  program
    .command("tail")
    .summary("follow one task's events live (Ctrl-C to stop)")
    .argument("<task_id>")
    .option("--interval <seconds>", "accepted for compatibility; events are pushed as they happen", numberArg(0))
    .action(act((deps, id: string) => runTail(deps, id)));

  program
    .command("watch")
    .summary("follow the whole board's events live (Ctrl-C to stop)")
    .option("--assignee <profile>", "only events of this assignee's tasks")
    .option("--tenant <name>", "only events of this tenant's tasks")
    .option("--kinds <a,b,c>", "only these event kinds")
    .option("--interval <seconds>", "accepted for compatibility; events are pushed as they happen", numberArg(0))
    .action(act((deps, opts: WatchOptions) => runWatch(deps, opts)));
};
