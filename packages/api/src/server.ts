import http from "node:http";
import type { AddressInfo } from "node:net";
import {
  type BoardLocation,
  type DatabaseTarget,
  databaseLabel,
  type LiveEventsSettings,
  liveEventsSettings,
  openPgEventListener,
  type PgEventListener,
  resolveDatabaseTarget,
  type RunClaim,
} from "@kanban/db";
import type { Clock, PidProbe, Termination } from "@kanban/kernel";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import { authorize, createAuthSource, type HostCaller, isLoopbackHost } from "./auth.ts";
import { createContextInner, drainTerminations } from "./context.ts";
import { lazyPgDispatcherDirectory } from "./routers/dispatcher-directory.ts";
import { LiveHub } from "./live/hub.ts";
import { type Logger, redactUrl, stderrLogger } from "./logger.ts";
import { BoardRegistry } from "./registry.ts";
import { startRemoteSweep } from "./remote-sweep.ts";
import { appRouter } from "./root.ts";
import { SECURITY_HEADERS } from "./security-headers.ts";

export const DEFAULT_HOST = "127.0.0.1";
export const DEFAULT_PORT = 4100;
export const DEFAULT_BODY_LIMIT_BYTES = 2 * 1024 * 1024;
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** How long an idle keep-alive connection stays open: longer than clients and load balancers keep theirs. */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;
/** How often an open live stream's token is checked again (a removed token ends the stream). */
export const STREAM_RECHECK_MS = 1000;
/** PostgreSQL: how often the database's list of boards is read again. */
const PG_BOARDS_REFRESH_MS = 5000;
/** Calls one batched request may carry. */
const MAX_BATCH = 50;

export interface ServerOptions {
  host?: string;
  /** 0 picks a free port (tests). */
  port?: number;
  /** The admin token (`KANBAN_TOKEN`); required unless `host` is a loopback address. */
  token?: string | null;
  location: BoardLocation;
  /** Fixed tenant-scoped tokens (token → tenant); default: `tenant_tokens` of `<home>/config.json`, reread when it changes. */
  tenantTokens?: Record<string, string>;
  /** How often config.json is checked for changes (default 250 ms). */
  configCheckMs?: number;
  bodyLimitBytes?: number;
  /** Per request (live streams excepted): 408 while the body is still arriving, 504 after. */
  requestTimeoutMs?: number;
  logger?: Logger;
  clock?: Clock;
  isPidAlive?: PidProbe;
  terminate?: (t: Termination) => void;
  /** How often an open live stream's token is checked again (default 1 s). */
  streamRecheckMs?: number;
  /** How often the live watcher polls each subscribed board (default 150 ms). */
  pollIntervalMs?: number;
  /**
   * Which engine the boards are on (default: `resolveDatabaseTarget` on this process's environment
   * and config.json). On PostgreSQL the current board is opened, and the live-events listener
   * connected, before the server listens: a bad URL, an unreachable server or a wrong password
   * rejects with the typed, password-free DB_* error and nothing is left listening or open.
   */
  database?: DatabaseTarget;
  /** PostgreSQL: how live events are heard (default LISTEN on the board's URL). */
  liveEvents?: LiveEventsSettings;
  /** How often the claims of silent remote hosts are given back (default 5 s; see remote-sweep.ts). */
  remoteSweepMs?: number;
}

export interface RunningServer {
  url: string;
  host: string;
  port: number;
  /** Stops accepting, ends live streams, closes every board. */
  close(): Promise<void>;
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

/** The same envelope tRPC uses for errors, so a client parses every refusal the same way. */
function errorBody(code: string, httpStatus: number, message: string) {
  return {
    error: { message, code: -32000, data: { code, httpStatus, kanbanCode: null, details: null, zodError: null } },
  };
}

const STATUS_CODES: Record<number, string> = {
  400: "BAD_REQUEST",
  401: "UNAUTHORIZED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  408: "TIMEOUT",
  413: "PAYLOAD_TOO_LARGE",
  504: "GATEWAY_TIMEOUT",
};

function refuse(res: http.ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, errorBody(STATUS_CODES[status] ?? "BAD_REQUEST", status, message), headers);
}

/** A live stream: an EventSource GET of a subscription. It must outlive the request timeout. */
function isStream(req: http.IncomingMessage, url: URL): boolean {
  return (
    req.method === "GET" &&
    ((req.headers.accept ?? "").includes("text/event-stream") || url.pathname.endsWith("/events.subscribe"))
  );
}

/**
 * PostgreSQL only: opens the current board (connect, migrate its schema) and the process's one
 * live-events listener, or throws the typed DB_* error with nothing left open. SQLite: nothing to do
 * here (each board file is checked when it is first opened). Null: no listener.
 */
async function openDatabase(
  boards: BoardRegistry,
  database: DatabaseTarget,
  live: LiveEventsSettings,
  logger: Logger,
): Promise<PgEventListener | null> {
  if (database.engine !== "postgres") return null;
  try {
    await boards.ready();
  } catch (err) {
    await boards.close();
    throw err;
  }
  try {
    return await openPgEventListener(live.url ?? database.url, { mode: live.mode, warn: (m) => logger.warn(m) });
  } catch (err) {
    await boards.close();
    throw err;
  }
}

/**
 * Starts `kanban serve`: Node's HTTP server in front of tRPC's standalone handler at `/trpc/`, plus
 * `GET /healthz`. Refuses to listen beyond loopback without a token. Checks, in order: path, auth
 * (401), origin of browser writes (403), body size (413), then hands the request to tRPC with a
 * per-request timer. Tokens never reach the log.
 */
export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const host = opts.host ?? DEFAULT_HOST;
  const token = opts.token?.trim() ? opts.token.trim() : null;
  if (token === null && !isLoopbackHost(host)) {
    throw new Error(
      `refusing to listen on ${host} without a token: set KANBAN_TOKEN (only loopback addresses may run open)`,
    );
  }
  const logger = opts.logger ?? stderrLogger;
  const bodyLimit = opts.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  const timeoutMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const auth = createAuthSource({
    home: opts.location.home,
    token,
    tenantTokens: opts.tenantTokens,
    logger,
    configCheckMs: opts.configCheckMs,
  });
  // Read once now, so that a config problem (and "requests without a token are refused") is said at start.
  const startAuth = auth.current();
  const database = opts.database ?? resolveDatabaseTarget(process.env, opts.location.home);
  const boards = new BoardRegistry({
    location: opts.location,
    clock: opts.clock,
    isPidAlive: opts.isPidAlive,
    warn: (m) => logger.warn(m),
    database,
  });
  const pgEvents = await openDatabase(boards, database, opts.liveEvents ?? liveEventsSettings(process.env), logger);
  const live = new LiveHub({ intervalMs: opts.pollIntervalMs, logger, pgEvents: pgEvents ?? undefined });
  // PostgreSQL: boards another host makes appear here within this long (a catalog read; a miss reads at once too).
  const boardsRefresh =
    database.engine === "postgres"
      ? setInterval(() => void boards.refreshBoards().catch(() => {}), PG_BOARDS_REFRESH_MS).unref()
      : null;
  // PostgreSQL: dispatchers on any host register in the board's schema; the board lists and nudges
  // them there (through the catalog connection), not through this home's dispatcher.json.
  const dispatchers = database.engine === "postgres" ? lazyPgDispatcherDirectory(() => boards.catalogDb()) : null;
  const callers = new WeakMap<
    http.IncomingMessage,
    { tenant: string | null; run: RunClaim | null; host: HostCaller | null }
  >();

  const trpc = createHTTPHandler({
    router: appRouter,
    basePath: "/trpc/",
    maxBodySize: bodyLimit,
    maxBatchSize: MAX_BATCH,
    createContext: ({ req }) => {
      const caller = callers.get(req);
      // No recorded caller cannot happen (auth runs first); refuse rather than fall back to admin.
      if (!caller) throw new Error("request reached tRPC without authentication");
      return {
        ...createContextInner({
          location: opts.location,
          tenant: caller.tenant,
          boards,
          live,
          logger,
          terminate: opts.terminate,
          configReader: auth.reader,
          dispatchers: dispatchers ?? undefined,
        }),
        run: caller.run,
        host: caller.host,
      };
    },
    onError: ({ error, path }) => {
      // Procedure errors were mapped (and bugs logged) already; this catches failures around them.
      if (error.code === "INTERNAL_SERVER_ERROR" && error.cause)
        logger.error("request failed", { path, error: error.cause.message });
    },
  });

  const server = http.createServer((req, res) => {
    const started = Date.now();
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    // A late write after a timeout response must not become an unhandled 'error' event.
    res.on("error", () => {});
    res.on("finish", () => {
      logger.info("request", {
        method: req.method,
        path: redactUrl(req.url),
        status: res.statusCode,
        ms: Date.now() - started,
      });
    });
    let url: URL;
    try {
      url = new URL(req.url ?? "/", "http://localhost");
    } catch {
      refuse(res, 400, "malformed request URL");
      return;
    }
    if (url.pathname === "/healthz" && (req.method === "GET" || req.method === "HEAD")) {
      sendJson(res, 200, { ok: true });
      return;
    }
    if (!url.pathname.startsWith("/trpc/")) {
      refuse(res, 404, `no such path: ${url.pathname}`);
      return;
    }
    const facts = {
      method: req.method ?? "GET",
      header: (name: string) => {
        const v = req.headers[name.toLowerCase()];
        return Array.isArray(v) ? (v[0] ?? null) : (v ?? null);
      },
      url,
    };
    const decision = authorize(auth.current(), facts);
    if (!decision.ok) {
      refuse(res, decision.status, decision.message, decision.status === 401 ? { "www-authenticate": "Bearer" } : {});
      return;
    }
    const declared = Number(req.headers["content-length"] ?? 0);
    if (Number.isFinite(declared) && declared > bodyLimit) {
      // Answer once the client has finished sending: closing mid-upload makes the client fail with
      // EPIPE before it can read the 413. Draining is bounded (8× the cap, or the request timeout);
      // past that the connection is cut.
      const tooLarge = () => {
        if (!res.writableEnded) refuse(res, 413, `request body exceeds ${bodyLimit} bytes`);
      };
      let drained = 0;
      const cutoff = setTimeout(() => {
        tooLarge();
        req.socket.destroy();
      }, timeoutMs);
      req.on("data", (chunk: Buffer) => {
        drained += chunk.length;
        if (drained > bodyLimit * 8) {
          clearTimeout(cutoff);
          req.socket.destroy();
        }
      });
      req.on("end", () => {
        clearTimeout(cutoff);
        tooLarge();
      });
      return;
    }
    callers.set(req, { tenant: decision.tenant, run: decision.run, host: decision.host });
    if (!isStream(req, url)) {
      const timer = setTimeout(() => {
        if (res.writableEnded) return;
        const status = req.complete ? 504 : 408;
        refuse(res, status, status === 408 ? "request body not received in time" : "request timed out", {
          connection: "close",
        });
        res.once("finish", () => req.socket.destroy());
      }, timeoutMs);
      res.once("close", () => clearTimeout(timer));
    } else {
      // A live stream outlives its request: once its token is removed from config.json (or now maps
      // to another tenant), the stream is cut, as the next request would be refused.
      const recheck = setInterval(() => {
        const now = authorize(auth.current(), facts);
        if (!now.ok || now.tenant !== decision.tenant) {
          clearInterval(recheck);
          logger.info("live stream closed: its token is no longer valid", { path: url.pathname });
          req.socket.destroy();
        }
      }, opts.streamRecheckMs ?? STREAM_RECHECK_MS);
      res.once("close", () => clearInterval(recheck));
    }
    trpc(req, res);
  });
  // Node's own limits stay above ours so that ours answer first, with a body.
  server.requestTimeout = 0;
  server.headersTimeout = Math.max(timeoutMs, 1000);
  // An idle keep-alive connection must be closed by the client, never by us: a request sent just as
  // the server closes its end is lost on the wire ("other side closed"), and the caller cannot tell
  // whether it ran. Clients close idle sockets after a few seconds (undici: 4 s, or the Keep-Alive
  // hint minus 1 s) and load balancers after 60 s; Node's default of 5 s lost requests of clients
  // whose event loop was busy at the wrong moment.
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;

  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(opts.port ?? DEFAULT_PORT, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (err) {
    // A busy port: let go of the database too, so nothing is left half-started.
    if (boardsRefresh) clearInterval(boardsRefresh);
    await boards.close();
    await pgEvents?.close();
    throw err;
  }
  // Remote hosts' claims are renewed only through this server: it gives back those of a silent host.
  const remoteSweep = startRemoteSweep({
    boards,
    logger,
    intervalMs: opts.remoteSweepMs,
    // Hosts could not renew while this server was down: one lease to come back before a sweep.
    graceMs: () => auth.reader.get().config.kanban.host_lease_seconds * 1000,
    nowMs: () => (opts.clock ? opts.clock.now() : Date.now()),
    terminate: (t) =>
      createContextInner({ location: opts.location, boards, live, logger, terminate: opts.terminate }).terminate(t),
  });
  const address = server.address() as AddressInfo;
  const urlHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const url = `http://${urlHost}:${address.port}`;
  const tenantCount = Object.keys(startAuth.tenantTokens ?? {}).length;
  const mode =
    token !== null
      ? "bearer token"
      : startAuth.tenantTokensDeclared || tenantCount > 0
        ? "tenant tokens only (no admin token)"
        : "open (loopback only)";
  logger.info("listening", {
    url,
    auth: mode,
    tenant_tokens: tenantCount,
    host_tokens: Object.keys(startAuth.hostTokens ?? {}).length,
    // Where the boards are, printable: the SQLite home, or the server without any credentials.
    database: database.engine === "postgres" ? databaseLabel(database.url) : "sqlite",
  });
  return {
    url,
    host,
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        live.close();
        if (boardsRefresh) clearInterval(boardsRefresh);
        const sweepStopped = remoteSweep.stop();
        server.close(() => {
          // A sweep under way finishes first: its boards must still be open.
          void sweepStopped.then(async () => {
            // Owed live-event announcements go out before the connections close.
            await boards.close();
            // The hub no longer uses the listener once it is closed; the listener is ours to close.
            void pgEvents?.close();
            // A worker released just before shutdown may still be inside its SIGTERM grace: finish
            // the escalation to SIGKILL rather than leave it running beside its replacement.
            void drainTerminations().then(resolve);
          });
        });
        // Live streams never end on their own; cut them so close() returns.
        server.closeAllConnections();
      }),
  };
}
