import type { CliConfig } from "./config.ts";
import type { OutboxSent, ToolOutbox } from "./tools/client.ts";

/** What a worker is told when its terminal call is kept on disk for the host to deliver. */
export const QUEUED_LINE = "queued: the host delivers it when the server answers";

/** The outbox entry could not be written: nothing was sent (a call the host could not re-send must not be made). */
export class OutboxUnwritableError extends Error {
  override readonly name = "OutboxUnwritableError";
}

/**
 * The completion outbox of a remote host's worker, shared by `kanban complete|block` and the MCP
 * tools `kanban_complete|kanban_block`: a worker of a remote host (`KANBAN_OUTBOX` set by the host,
 * talking to `KANBAN_URL`, with its run in `KANBAN_RUN_ID`) settles its own task by writing the call
 * to the host's disk first (`@kanban/contract/outbox`), then sending it once. A definitive answer
 * moves the entry to `delivered/`; no answer (the server down, the network cut) leaves it pending
 * and the host re-sends it until the server answers. Null when this process is no such worker.
 */
export function outboxFor(config: CliConfig): ToolOutbox | null {
  const dir = config.env.KANBAN_OUTBOX?.trim();
  const { url, task, runId } = config;
  if (!dir || url === null || task === null || runId === null) return null;
  return {
    async send(verb, taskId, input): Promise<OutboxSent | null> {
      // Only the worker's own task with its own run: anything else is an ordinary call.
      if (taskId !== task) return null;
      // Loaded here: a CLI call that is not a remote worker's terminal call never pays for them.
      const [outbox, { nodeHttpFetch }] = await Promise.all([
        import("@kanban/contract/outbox"),
        import("./http-fetch.ts"),
      ]);
      const entry = {
        v: 1 as const,
        verb,
        url,
        token: config.token,
        board: typeof input.board === "string" ? input.board : config.board,
        task_id: taskId,
        run_id: runId,
        input,
        created_at: Math.floor(Date.now() / 1000),
      };
      try {
        outbox.writeOutboxEntry(dir, entry);
      } catch (err) {
        const why = err instanceof Error ? (err.message.split("\n")[0] ?? "") : String(err);
        throw new OutboxUnwritableError(
          `cannot keep the ${verb} of ${taskId} in the outbox (${dir}): ${why}; nothing was sent`,
        );
      }
      const r = await outbox.deliverOutboxEntry(dir, entry, {
        fetch: nodeHttpFetch as unknown as import("@kanban/contract/outbox").OutboxFetch,
      });
      if (r.state === "pending") return { state: "pending" };
      return { state: "delivered", ...r.answer };
    },
  };
}
