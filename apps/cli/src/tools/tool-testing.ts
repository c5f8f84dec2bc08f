import { type RunningServer, silentLogger, startServer } from "@kanban/api";
import { afterEach, beforeEach } from "vitest";
import type { KanbanClient } from "../client.ts";
import { apiClient, type TempHome, tempHome } from "../testing/harness.ts";
import type { ToolIdentity } from "./client.ts";
import { KANBAN_TOOLS, runKanbanTool } from "./index.ts";

// Shared by the tool tests that run each case twice, in process and over HTTP: a fresh home per
// test, and an API client on it (for "remote", through a real server on a loopback port).

/** Registers the per-test home and client of one mode; `use` receives them before each test. */
export function useToolApi(mode: "local" | "remote", use: (home: TempHome, api: KanbanClient) => void): void {
  let home: TempHome | null = null;
  let server: RunningServer | null = null;
  beforeEach(async () => {
    home = tempHome();
    if (mode === "remote") {
      server = await startServer({ host: "127.0.0.1", port: 0, location: { home: home.home }, logger: silentLogger });
      home.env.KANBAN_URL = server.url;
    }
    use(home, await apiClient(home.env));
  });
  afterEach(async () => {
    await server?.close();
    server = null;
    home?.cleanup();
    home = null;
  });
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
