import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { CallToolRequestSchema, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import type { ToolContext } from "./tools/client.ts";
import { KANBAN_TOOLS, type KanbanTool } from "./tools/definitions.ts";
import { KANBAN_GUIDANCE } from "./tools/guidance.ts";
import { runKanbanTool, visibleTools } from "./tools/run.ts";

export const MCP_SERVER_NAME = "kanban";
export const MCP_SERVER_VERSION = "0.1.0";

/** A tool's input schema as JSON Schema (what a model sees): the zod schema's input side. */
export function toolJsonSchema(tool: KanbanTool): { type: "object"; [key: string]: unknown } {
  const { $schema: _ignored, ...schema } = z.toJSONSchema(tool.inputSchema, { io: "input" }) as Record<string, unknown>;
  return { ...schema, type: "object" };
}

/**
 * The MCP server of `kanban mcp`: the tools visible to this identity (a dispatched worker does not
 * get the routing tools), the worker guidance as its instructions. Listing and calling are wired
 * on the SDK's server directly rather than through `registerTool`, so that a call with bad
 * arguments gets the tool's own `{"error": …}` text (runKanbanTool validates) instead of the SDK's
 * generic validation message; gating, texts and the size cap are the same in every runtime.
 */
export function createMcpServer(ctx: ToolContext): McpServer {
  const server = new McpServer(
    { name: MCP_SERVER_NAME, version: MCP_SERVER_VERSION },
    { instructions: KANBAN_GUIDANCE, capabilities: { tools: { listChanged: false } } },
  );
  const visible = visibleTools(ctx.identity);
  server.server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: visible.map((t) => ({ name: t.name, description: t.description, inputSchema: toolJsonSchema(t) })),
  }));
  server.server.setRequestHandler(CallToolRequestSchema, async (request) => {
    // A hidden routing tool still answers, with the orchestrator-only refusal.
    const tool = KANBAN_TOOLS.find((t) => t.name === request.params.name);
    const running = tool
      ? runKanbanTool(tool, request.params.arguments ?? {}, ctx)
      : Promise.resolve({ isError: true, text: JSON.stringify({ error: `unknown tool '${request.params.name}'` }) });
    inFlight.add(running);
    const outcome = await running.finally(() => inFlight.delete(running));
    return { content: [{ type: "text" as const, text: outcome.text }], isError: outcome.isError };
  });
  return server;
}

/** Tool calls still running: a client that closes stdin right after a call still gets its answer. */
const inFlight = new Set<Promise<unknown>>();

/**
 * Serves the tools on `transport` (stdio by default) until it closes, `signal` fires, or (stdio)
 * the client closes our stdin: the SDK's stdio transport does not notice EOF by itself.
 */
export async function serveMcp(ctx: ToolContext, signal: AbortSignal, transport?: Transport): Promise<void> {
  const server = createMcpServer(ctx);
  const closed = new Promise<void>((resolve) => {
    server.server.onclose = () => resolve();
  });
  await server.connect(transport ?? new StdioServerTransport());
  const stop = () => void server.close();
  signal.addEventListener("abort", stop, { once: true });
  // (A turn of the event loop before, so that the calls read just before the end have started, and
  // one after, so that the SDK has written their answers.)
  const stopWhenAnswered = () =>
    setImmediate(() => void Promise.allSettled([...inFlight]).then(() => setImmediate(stop)));
  if (!transport) process.stdin.once("end", stopWhenAnswered);
  await closed;
  signal.removeEventListener("abort", stop);
  if (!transport) process.stdin.off("end", stopWhenAnswered);
}
