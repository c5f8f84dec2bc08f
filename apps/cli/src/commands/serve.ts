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
  const server = await api.startServer({
    host: opts.host,
    port: opts.port,
    token: deps.config.token,
    location: api.boardLocationFromEnv(deps.config.env),
    logger: deps.config.debug
      ? api.stderrLogger
      : { ...api.silentLogger, warn: api.stderrLogger.warn, error: api.stderrLogger.error },
  });
  deps.io.out(
    `Serving the kanban API at ${server.url}/trpc (${deps.config.token ? "bearer token required" : "no token: loopback only"})`,
  );
  deps.io.out(`Clients: KANBAN_URL=${server.url}${deps.config.token ? " KANBAN_TOKEN=…" : ""} kanban …`);
  const signal = deps.stopSignal();
  await new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });
  await server.close();
  deps.io.out("(stopped)");
  return 0;
}

export async function runMcp(deps: Deps): Promise<number> {
  const { serveMcp } = await import("../mcp.ts");
  const c = deps.config;
  const client = await deps.client();
  await serveMcp(
    {
      client,
      identity: {
        task: c.task,
        runId: c.runId,
        claimLock: c.claimLock,
        profile: c.profile,
        tenant: c.tenant,
        sessionId: c.sessionId,
      },
    },
    deps.stopSignal(),
  );
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
