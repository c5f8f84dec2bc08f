import { type BoardLocation, loadHomeConfig } from "@kanban/db";
import type { Clock, PidProbe, Termination } from "@kanban/kernel";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { type AuthConfig, authorize } from "./auth.ts";
import { createContextInner } from "./context.ts";
import { LiveHub } from "./live/hub.ts";
import { type Logger, stderrLogger } from "./logger.ts";
import { BoardRegistry } from "./registry.ts";
import { appRouter } from "./root.ts";
import { DEFAULT_BODY_LIMIT_BYTES } from "./server.ts";

export interface FetchHandlerOptions {
  /** Where the router is mounted, e.g. "/api/trpc". */
  endpoint: string;
  location: BoardLocation;
  token?: string | null;
  tenantTokens?: Record<string, string>;
  bodyLimitBytes?: number;
  logger?: Logger;
  clock?: Clock;
  isPidAlive?: PidProbe;
  terminate?: (t: Termination) => void;
  /** Bundled hosts (Next) pass the migrations folder explicitly. */
  migrationsFolder?: string;
}

function refusal(status: number, code: string, message: string): Response {
  return new Response(JSON.stringify({ error: { message, code: -32000, data: { code, httpStatus: status, kanbanCode: null, details: null, zodError: null } } }), {
    status,
    headers: { "content-type": "application/json", ...(status === 401 ? { "www-authenticate": "Bearer" } : {}) },
  });
}

/** Reads a request body up to `limit` bytes; null when it is larger. */
async function boundedBody(req: Request, limit: number): Promise<ArrayBuffer | null> {
  if (!req.body) return new ArrayBuffer(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  // An ArrayBuffer is a BodyInit under both Node's and the DOM's typings (a Uint8Array is not in the latter).
  return out.buffer;
}

/**
 * The router for a fetch-style host (Next's route handler): the same auth, origin and body checks
 * as `kanban serve`, one board registry and one live hub for the handler's lifetime.
 * `export const GET = handler, POST = handler`.
 */
export function createFetchHandler(opts: FetchHandlerOptions): (req: Request) => Promise<Response> {
  const logger = opts.logger ?? stderrLogger;
  const bodyLimit = opts.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  const boards = new BoardRegistry({ location: opts.location, clock: opts.clock, isPidAlive: opts.isPidAlive, migrationsFolder: opts.migrationsFolder, warn: (m) => logger.warn(m) });
  const live = new LiveHub({ logger });
  const auth: AuthConfig = { token: opts.token, tenantTokens: opts.tenantTokens ?? loadHomeConfig(opts.location.home).tenant_tokens };
  return async (incoming) => {
    const url = new URL(incoming.url);
    const decision = authorize(auth, { method: incoming.method, header: (n) => incoming.headers.get(n), url });
    if (!decision.ok) return refusal(decision.status, decision.status === 401 ? "UNAUTHORIZED" : "FORBIDDEN", decision.message);
    let req = incoming;
    if (incoming.method === "POST") {
      const declared = Number(incoming.headers.get("content-length") ?? 0);
      const body = Number.isFinite(declared) && declared > bodyLimit ? null : await boundedBody(incoming, bodyLimit);
      if (body === null) return refusal(413, "PAYLOAD_TOO_LARGE", `request body exceeds ${bodyLimit} bytes`);
      req = new Request(incoming.url, { method: "POST", headers: incoming.headers, body, signal: incoming.signal });
    }
    return fetchRequestHandler({
      endpoint: opts.endpoint,
      req,
      router: appRouter,
      maxBatchSize: 50,
      createContext: () => createContextInner({ location: opts.location, tenant: decision.tenant, boards, live, logger, terminate: opts.terminate }),
    });
  };
}
