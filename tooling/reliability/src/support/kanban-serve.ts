import { fileURLToPath } from "node:url";
import { waitFor } from "./env.ts";
import type { ProcessTracker, Started } from "./processes.ts";

/** The real `kanban` executable (apps/cli). */
export const KANBAN_BIN = fileURLToPath(new URL("../../../../apps/cli/bin/kanban.mjs", import.meta.url));

export interface Serve extends Started {
  /** The server's root URL (`http://127.0.0.1:<port>`); procedures live under `/trpc/`. */
  url: string;
}

/**
 * Starts `kanban serve --port 0` on `env`'s home and waits for the address it prints. The wait is
 * long because CI runs three suites at once on two cores, where a start has once taken over 20 s;
 * a start that never comes fails with how long it waited and what the server printed.
 */
export async function startKanbanServe(
  procs: ProcessTracker,
  env: Record<string, string>,
  timeoutMs = 60_000,
): Promise<Serve> {
  const startedAt = Date.now();
  const started = procs.startNode([KANBAN_BIN, "serve", "--port", "0"], { env });
  let exited = false;
  void started.exited.then(() => {
    exited = true;
  });
  try {
    const url = await waitFor(
      () => {
        if (exited) throw new Error("kanban serve exited before listening");
        return /Serving the kanban API at (http:\/\/\S+?)\/trpc/.exec(started.stdout())?.[1];
      },
      "kanban serve to listen",
      timeoutMs,
      25,
    );
    return { ...started, url };
  } catch (err) {
    const output = `stdout: ${started.stdout().slice(-1000)}\nstderr: ${started.stderr().slice(-1500)}`;
    throw new Error(`${(err as Error).message} (after ${Date.now() - startedAt} ms)\n${output}`);
  }
}
