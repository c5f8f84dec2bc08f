import type { KanbanClient } from "../client.ts";
import type { Deps } from "../deps.ts";
import { intArg } from "./parse.ts";
import type { Register } from "./register.ts";

export interface ServeOptions {
  host: string;
  port: number;
}

/**
 * `kanban serve`: the API's standalone HTTP server on this machine's boards (KANBAN_HOME), with
 * KANBAN_TOKEN as its bearer token, until Ctrl-C/SIGTERM.
 */
export async function runServe(deps: Deps, opts: ServeOptions): Promise<number> {
  const api = await import("@kanban/api");
  const env = deps.config.env;
  const location = api.boardLocationFromEnv(env);
  let server: Awaited<ReturnType<typeof api.startServer>>;
  let database: import("@kanban/api").DatabaseTarget;
  try {
    database = api.resolveDatabaseTarget(env, location.home);
    // On PostgreSQL the server opens the current board and its live-events listener before it
    // listens: a bad URL, an unreachable server or a wrong password stops it here, with nothing bound.
    server = await api.startServer({
      host: opts.host,
      port: opts.port,
      token: deps.config.token,
      location,
      database,
      liveEvents: database.engine === "postgres" ? api.liveEventsSettings(env) : undefined,
      logger: deps.config.debug
        ? api.stderrLogger
        : { ...api.silentLogger, warn: api.stderrLogger.warn, error: api.stderrLogger.error },
    });
  } catch (err) {
    if (isDatabaseRefusal(err)) {
      // One line, password-free by construction (the db's errors name only host:port/database).
      deps.io.err(`kanban: cannot open the board database: ${err.message}`);
      return 1;
    }
    throw err;
  }
  // Ctrl-C/SIGTERM handling is installed before the line that says the server is up: a supervisor
  // (or a test) may stop us the moment it reads it, and an uninstalled SIGTERM kills the process
  // outright, without closing the server or saying "(stopped)".
  const signal = deps.stopSignal();
  const where = database.engine === "postgres" ? `, boards on ${api.databaseLabel(database.url)}` : "";
  deps.io.out(
    `Serving the kanban API at ${server.url}/trpc (${deps.config.token ? "bearer token required" : "no token: loopback only"}${where})`,
  );
  deps.io.out(`Clients: KANBAN_URL=${server.url}${deps.config.token ? " KANBAN_TOKEN=…" : ""} kanban …`);
  await new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });
  await server.close();
  deps.io.out("(stopped)");
  return 0;
}

/** A typed refusal of the database or of the rule that picks it (DB_*, CONFIG_INVALID). */
function isDatabaseRefusal(err: unknown): err is Error & { code: string } {
  const code = (err as { code?: unknown } | null)?.code;
  return err instanceof Error && typeof code === "string" && (code.startsWith("DB_") || code === "CONFIG_INVALID");
}

export async function runMcp(deps: Deps): Promise<number> {
  const [{ serveMcp }, { deferredToolClient }, { outboxFor }] = await Promise.all([
    import("../mcp.ts"),
    import("../tools/deferred-client.ts"),
    import("../outbox-call.ts"),
  ]);
  const c = deps.config;
  // The server answers initialize and tools/list first; the client (in local mode the whole API)
  // opens once the event loop is free, and a tool call waits for it. If it cannot open (a refused
  // database), the server stops and the command fails with that error, as before.
  let ready!: Promise<KanbanClient>;
  const stop = new AbortController();
  const opened = new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
    ready = deps.client();
    return ready.then(
      () => {},
      (err: unknown) => {
        stop.abort();
        throw err;
      },
    );
  });
  opened.catch(() => {});
  const signal = AbortSignal.any([deps.stopSignal(), stop.signal]);
  await serveMcp(
    {
      client: deferredToolClient(opened.then(() => ready)),
      identity: {
        task: c.task,
        runId: c.runId,
        claimLock: c.claimLock,
        profile: c.profile,
        tenant: c.tenant,
        sessionId: c.sessionId,
      },
      // A remote host's worker: kanban_complete/kanban_block keep the call on the host's disk first.
      outbox: outboxFor(c),
    },
    signal,
  );
  await opened;
  return 0;
}

export const registerServe: Register = (program, act) => {
  program
    .command("serve")
    .summary("serve the API over HTTP for remote CLIs, workers and the web board")
    .description(
      "Serve the kanban API (tRPC at /trpc, live events over SSE) on this machine's boards. The bearer token is KANBAN_TOKEN; without one only loopback addresses may be used.",
    )
    .option("--host <host>", "address to bind", "127.0.0.1")
    .option("--port <port>", "port (0 picks a free one)", intArg(0), 4100)
    .action(act((deps, opts: ServeOptions) => runServe(deps, opts)));

  program
    .command("mcp")
    .summary("serve the kanban_* agent tools over MCP (stdio)")
    .description(
      "An MCP server on stdin/stdout with the kanban_* tools and the worker guidance as instructions. Inside a worker " +
        "(KANBAN_TASK set) the tools act on that task, carry KANBAN_RUN_ID as the fence, and the routing tools are hidden.",
    )
    .action(act((deps) => runMcp(deps)));
};
