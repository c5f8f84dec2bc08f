import { type RunningServer, silentLogger, startServer } from "@kanban/api";
import type { KanbanClient } from "../client.ts";
import { apiClient, type TempHome, tempHome } from "../testing/harness.ts";
import type { ToolIdentity } from "./client.ts";
import { KANBAN_TOOLS, runKanbanTool } from "./index.ts";

// Shared by the tool tests that run each case twice, in process and over HTTP: a fresh home per
// test, and an API client on it (for "remote", through a real server on a loopback port).

/** A test's home and its API client; `close` stops the server (remote) and removes the home. */
export interface ToolApi {
  home: TempHome;
  api: KanbanClient;
  close(): Promise<void>;
}

/** Opens a fresh home and an API client on it: in process ("local"), or through a real server ("remote"). */
export async function openToolApi(mode: "local" | "remote"): Promise<ToolApi> {
  const home = tempHome();
  let server: RunningServer | null = null;
  if (mode === "remote") {
    server = await startServer({ host: "127.0.0.1", port: 0, location: { home: home.home }, logger: silentLogger });
    home.env.KANBAN_URL = server.url;
  }
  return {
    home,
    api: await apiClient(home.env),
    close: async () => {
      await server?.close();
      home.cleanup();
    },
  };
}

/** Runs one MCP tool as a worker with `identity` would, and parses its answer. */
export async function callTool(
  api: KanbanClient,
  name: string,
  args: Record<string, unknown>,
  identity: ToolIdentity,
): Promise<{ isError: boolean; body: Record<string, unknown> }> {
  const tool = KANBAN_TOOLS.find((t) => t.name === name);
  if (!tool) throw new Error(`no tool ${name}`);
  const outcome = await runKanbanTool(tool, args, { client: api, identity });
  return { isError: outcome.isError, body: JSON.parse(outcome.text) as Record<string, unknown> };
}
