import type { KanbanToolClient } from "./client.ts";

/**
 * A tool client whose calls wait for the real one. `kanban mcp` answers `initialize` and
 * `tools/list` without the API (local mode loads the whole API, SQLite and zod schemas, which would
 * roughly double its start-up), and opens it in the background for the first tool call.
 */
export function deferredToolClient(ready: Promise<KanbanToolClient>): KanbanToolClient {
  // A rejected start-up is reported by whoever awaits `ready`; this copy only must not go unhandled.
  ready.catch(() => {});
  const procedure = (router: string, name: string) => ({
    query: async (input: unknown) => {
      const client = (await ready) as unknown as Record<string, Record<string, { query(i: unknown): unknown }>>;
      return client[router]?.[name]?.query(input);
    },
    mutate: async (input: unknown) => {
      const client = (await ready) as unknown as Record<string, Record<string, { mutate(i: unknown): unknown }>>;
      return client[router]?.[name]?.mutate(input);
    },
  });
  const routers = new Proxy(
    {},
    {
      get: (_t, router) =>
        typeof router === "string"
          ? new Proxy({}, { get: (_u, name) => (typeof name === "string" ? procedure(router, name) : undefined) })
          : undefined,
    },
  );
  return routers as KanbanToolClient;
}
