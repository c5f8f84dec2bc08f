"use client";

import type { AppRouter } from "@kanban/api";
import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink, TRPCClientError } from "@trpc/client";
import { createTRPCContext } from "@trpc/tanstack-react-query";
import { readToken, withTokenParam } from "../lib/token.ts";

/** Typed hooks over the API; client components import only the router's type. */
export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<AppRouter>();

export const API_URL = "/api/trpc";

/** An EventSource that carries the token in the query string (EventSource cannot set headers). */
function tokenEventSource(): typeof EventSource | undefined {
  if (typeof EventSource === "undefined") return undefined; // server render: nothing subscribes there
  return class extends EventSource {
    constructor(url: string | URL, init?: EventSourceInit) {
      super(withTokenParam(String(url), readToken()), init);
    }
  };
}

/**
 * Subscriptions over SSE, everything else batched over HTTP (long batches split before the URL
 * gets too long for a GET). The wire format is plain JSON, as the API serves it.
 */
export function makeTRPCClient() {
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === "subscription",
        true: httpSubscriptionLink({ url: API_URL, EventSource: tokenEventSource() }),
        false: httpBatchLink({
          url: API_URL,
          maxURLLength: 2000,
          headers: () => {
            const token = readToken();
            return token ? { authorization: `Bearer ${token}` } : {};
          },
        }),
      }),
    ],
  });
}

/** The HTTP status of a failed call, when the server gave one. */
export function httpStatusOf(err: unknown): number | null {
  if (err instanceof TRPCClientError) {
    const status = (err.data as { httpStatus?: unknown } | undefined)?.httpStatus;
    return typeof status === "number" ? status : null;
  }
  return null;
}

/**
 * The HTTP status of a failed call, or null when no server answered at all (connection refused,
 * network down). A reply that is not the API's JSON (a proxy's or host's error page) counts as 502.
 */
export function failureStatus(err: unknown): number | null {
  const status = httpStatusOf(err);
  if (status !== null) return status;
  const cause = err instanceof Error ? err.cause : undefined;
  return cause instanceof SyntaxError ? 502 : null;
}

/** The server's own words for a refusal (the kernel's message), else a generic line. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error && err.message) return err.message;
  return "something went wrong";
}
