import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink } from "@trpc/client";
import { EventSource } from "eventsource";
import type { AppRouter } from "./root.ts";

export interface KanbanClientOptions {
  /** The tRPC endpoint, e.g. `http://127.0.0.1:4100/trpc` (serve) or `http://host:3000/api/trpc` (web). */
  url: string;
  token?: string | null;
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
        false: httpBatchLink({ url: opts.url, headers: () => auth }),
      }),
    ],
  });
}

export type KanbanClient = ReturnType<typeof createKanbanClient>;
export type { AppRouter, RouterInputs, RouterOutputs } from "./root.ts";
