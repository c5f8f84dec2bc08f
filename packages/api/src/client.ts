import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink } from "@trpc/client";
import { EventSource } from "eventsource";
import type { AppRouter } from "./root.ts";

export interface KanbanClientOptions {
  /** The tRPC endpoint, e.g. `http://127.0.0.1:4100/trpc` (serve) or `http://host:3000/api/trpc` (web). */
  url: string;
  token?: string | null;
  /**
   * The fetch of queries and mutations (default: the global fetch). The CLI passes one on
   * `node:http`, which starts much faster than Node 20's undici-backed fetch.
   */
  fetch?: (
    url: string,
    init: { method: string; headers: Record<string, string>; body?: string | null; signal?: AbortSignal | null },
  ) => Promise<{ ok: boolean; status: number; json(): Promise<unknown> }>;
}

/**
 * A typed client of the API for Node (the CLI, workers, tests). Subscriptions go over SSE with the
 * `eventsource` package (Node 20 has no EventSource), with the token in the Authorization header
 * through its fetch hook; everything else is batched over HTTP.
 */
export function createKanbanClient(opts: KanbanClientOptions) {
  const token = opts.token?.trim() ? opts.token.trim() : null;
  const auth: Record<string, string> = token === null ? {} : { authorization: `Bearer ${token}` };
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === "subscription",
        true: httpSubscriptionLink({
          url: opts.url,
          EventSource,
          eventSourceOptions: {
            fetch: (input, init) => fetch(input, { ...init, headers: { ...init.headers, ...auth } }),
          },
        }),
        false: httpBatchLink({
          url: opts.url,
          headers: () => auth,
          ...(opts.fetch ? { fetch: opts.fetch as unknown as typeof fetch } : {}),
        }),
      }),
    ],
  });
}

export type KanbanClient = ReturnType<typeof createKanbanClient>;
export type { AppRouter, RouterInputs, RouterOutputs } from "./root.ts";
