import type { BoardLocation } from "@kanban/db";
import type { Clock, PidProbe, Termination } from "@kanban/kernel";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { authorize, createAuthSource } from "./auth.ts";
import { createContextInner } from "./context.ts";
import { lazyPgDispatcherDirectory } from "./routers/dispatcher-directory.ts";
import { LiveHub } from "./live/hub.ts";
import { type Logger, stderrLogger } from "./logger.ts";
import { BoardRegistry } from "./registry.ts";
import { appRouter } from "./root.ts";
import { DEFAULT_BODY_LIMIT_BYTES, DEFAULT_REQUEST_TIMEOUT_MS, STREAM_RECHECK_MS } from "./server.ts";

export interface FetchHandlerOptions {
  /** Where the router is mounted, e.g. "/api/trpc". */
  endpoint: string;
  location: BoardLocation;
  token?: string | null;
  /** Fixed tenant tokens (tests); default: `tenant_tokens` of `<home>/config.json`, reread when it changes. */
  tenantTokens?: Record<string, string>;
  /** How often config.json is checked for changes (default 250 ms). */
  configCheckMs?: number;
  bodyLimitBytes?: number;
  /** A request body still arriving after this long is answered 408, as `kanban serve` does (default 30 s). */
  requestTimeoutMs?: number;
  /** How often an open live stream's token is checked again (default 1 s). */
  streamRecheckMs?: number;
  logger?: Logger;
  clock?: Clock;
  isPidAlive?: PidProbe;
  terminate?: (t: Termination) => void;
  /** Bundled hosts (Next) pass the migrations folder explicitly. */
  migrationsFolder?: string;
}

function refusal(status: number, code: string, message: string): Response {
  return new Response(
    JSON.stringify({
      error: {
        message,
        code: -32000,
        data: { code, httpStatus: status, kanbanCode: null, details: null, zodError: null },
      },
    }),
    {
      status,
      headers: { "content-type": "application/json", ...(status === 401 ? { "www-authenticate": "Bearer" } : {}) },
    },
  );
}

const TIMED_OUT = Symbol("timed out");

/**
 * Reads a request body up to `limit` bytes and until `deadline` (epoch ms): "too large" when it is
 * larger, "timed out" when it is still arriving at the deadline (a slow or stalled client must not
 * hold a handler, and its memory, forever).
 */
async function boundedBody(
  req: Request,
  limit: number,
  deadline: number,
): Promise<ArrayBuffer | "too large" | "timed out"> {
  if (!req.body) return new ArrayBuffer(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(() => resolve(TIMED_OUT), Math.max(0, deadline - Date.now()));
    });
    const next = await Promise.race([reader.read(), expired]).finally(() => clearTimeout(timer));
    if (next === TIMED_OUT) {
      void reader.cancel().catch(() => {});
      return "timed out";
    }
    const { done, value } = next;
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return "too large";
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
 * Passes an event stream through, ending it when `stillAllowed` turns false (checked every
 * `everyMs`); any other response is returned as it is.
 */
function revocable(res: Response, stillAllowed: () => boolean, everyMs: number): Response {
  if (!res.body || !(res.headers.get("content-type") ?? "").includes("text/event-stream")) return res;
  const reader = res.body.getReader();
  let timer: ReturnType<typeof setInterval> | undefined;
  let closed = false;
  const end = (controller: ReadableStreamDefaultController<Uint8Array>) => {
    clearInterval(timer);
    if (closed) return;
    closed = true;
    void reader.cancel().catch(() => {});
    controller.close();
  };
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      timer = setInterval(() => {
        if (!stillAllowed()) end(controller);
      }, everyMs);
    },
    async pull(controller) {
      const { done, value } = await reader.read().catch(() => ({ done: true as const, value: undefined }));
      if (done) end(controller);
      else if (!closed) controller.enqueue(value);
    },
    cancel(reason) {
      clearInterval(timer);
      closed = true;
      return reader.cancel(reason);
    },
  });
  return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
}

/**
 * The router for a fetch-style host (Next's route handler): the same auth, origin and body checks
 * as `kanban serve`, one board registry and one live hub for the handler's lifetime.
 * `export const GET = handler, POST = handler`.
 */
export function createFetchHandler(opts: FetchHandlerOptions): (req: Request) => Promise<Response> {
  const logger = opts.logger ?? stderrLogger;
  const bodyLimit = opts.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  const boards = new BoardRegistry({
    location: opts.location,
    clock: opts.clock,
    isPidAlive: opts.isPidAlive,
    migrationsFolder: opts.migrationsFolder,
    warn: (m) => logger.warn(m),
  });
  const live = new LiveHub({ logger });
  // PostgreSQL: the board's dispatchers are the database's rows (any host), as in startServer. The
  // engine is resolved on first use; an invalid config surfaces through the board lookup instead.
  const pgDirectory = lazyPgDispatcherDirectory(() => boards.catalogDb());
  const pgDispatchers = () => {
    try {
      return boards.engine === "postgres" ? pgDirectory : undefined;
    } catch {
      return undefined;
    }
  };
  const timeoutMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const auth = createAuthSource({
    home: opts.location.home,
    token: opts.token,
    tenantTokens: opts.tenantTokens,
    logger,
    configCheckMs: opts.configCheckMs,
  });
  // Read once now, so that a config problem (and "requests without a token are refused") is said at start.
  auth.current();
  return async (incoming) => {
    const started = Date.now();
    const url = new URL(incoming.url);
    const facts = { method: incoming.method, header: (n: string) => incoming.headers.get(n), url };
    const decision = authorize(auth.current(), facts);
    if (!decision.ok)
      return refusal(decision.status, decision.status === 401 ? "UNAUTHORIZED" : "FORBIDDEN", decision.message);
    let req = incoming;
    if (incoming.method === "POST") {
      const declared = Number(incoming.headers.get("content-length") ?? 0);
      const body =
        Number.isFinite(declared) && declared > bodyLimit
          ? "too large"
          : await boundedBody(incoming, bodyLimit, started + timeoutMs);
      if (body === "too large") return refusal(413, "PAYLOAD_TOO_LARGE", `request body exceeds ${bodyLimit} bytes`);
      if (body === "timed out") return refusal(408, "TIMEOUT", "request body not received in time");
      req = new Request(incoming.url, { method: "POST", headers: incoming.headers, body, signal: incoming.signal });
    }
    const response = await fetchRequestHandler({
      endpoint: opts.endpoint,
      req,
      router: appRouter,
      maxBatchSize: 50,
      createContext: () => ({
        ...createContextInner({
          location: opts.location,
          tenant: decision.tenant,
          boards,
          live,
          logger,
          terminate: opts.terminate,
          configReader: auth.reader,
          dispatchers: pgDispatchers(),
        }),
        run: decision.run,
        host: decision.host,
      }),
    });
    // A live stream outlives its request: cut it once its token no longer admits it as the same caller.
    return revocable(
      response,
      () => {
        const now = authorize(auth.current(), facts);
        return now.ok && now.tenant === decision.tenant;
      },
      opts.streamRecheckMs ?? STREAM_RECHECK_MS,
    );
  };
}
