import { redactSecrets, redactSecretsDeep } from "@kanban/contract";
import { TRPCClientError } from "@trpc/client";
import type { ToolContext, ToolIdentity } from "./client.ts";
import { capResponse, MAX_RESPONSE_BYTES } from "./cap.ts";
import { KANBAN_TOOLS, type KanbanTool, ToolError } from "./definitions.ts";

/** What a tool call produced: the JSON text an agent reads, and whether it is an error. */
export interface ToolOutcome {
  isError: boolean;
  /** `{"ok": true, …}` (or the read tools' documents), or `{"error": "<message>"}`; at most MAX_RESPONSE_BYTES. */
  text: string;
}

/** The tools an agent with this identity sees: a dispatched worker does not see the routing tools. */
export function visibleTools(identity: ToolIdentity): KanbanTool[] {
  return KANBAN_TOOLS.filter((t) => !(t.orchestratorOnly && identity.task !== null));
}

/**
 * The free-text arguments an agent writes into the board (its handoff, a block or review reason, a
 * comment or card body, a progress note, metadata): credentials in them are cut before anything is
 * stored (as Hermes' tools do), since every reader of the card would see them. Ids, names and
 * numbers are left as given.
 */
export const REDACTED_TOOL_FIELDS = ["summary", "result", "reason", "body", "note", "metadata"] as const;

function redactToolArgs<T>(args: T): T {
  if (args === null || typeof args !== "object") return args;
  const out: Record<string, unknown> = { ...(args as Record<string, unknown>) };
  for (const field of REDACTED_TOOL_FIELDS) {
    const v = out[field];
    if (typeof v === "string") out[field] = redactSecrets(v);
    else if (v !== null && typeof v === "object") out[field] = redactSecretsDeep(v);
  }
  return out as T;
}

function errorOutcome(message: string): ToolOutcome {
  return { isError: true, text: JSON.stringify({ error: message }) };
}

/**
 * Runs one tool the way every runtime should: the orchestrator gate, input validation with the
 * tool's own error texts, secrets cut from the free-text arguments, the handler, then errors as
 * `{"error"}` and results capped in size.
 * Never throws.
 */
export async function runKanbanTool(
  tool: KanbanTool,
  rawArgs: unknown,
  ctx: ToolContext,
  maxBytes = MAX_RESPONSE_BYTES,
): Promise<ToolOutcome> {
  if (tool.orchestratorOnly && ctx.identity.task !== null) {
    return errorOutcome(
      `${tool.name} is orchestrator-only: a dispatched worker acts on its own task with kanban_complete, kanban_block, kanban_heartbeat or kanban_comment.`,
    );
  }
  const parsed = tool.inputSchema.safeParse(rawArgs ?? {});
  // Each message once: three bad elements of one list are one mistake.
  if (!parsed.success) return errorOutcome([...new Set(parsed.error.issues.map((i) => i.message))].join("; "));
  try {
    const result = await tool.handler(redactToolArgs(parsed.data), ctx);
    return { isError: false, text: capResponse(result, maxBytes) };
  } catch (err) {
    if (err instanceof ToolError) return errorOutcome(err.message);
    if (err instanceof TRPCClientError) {
      const data = (err as TRPCClientError<never>).data as object | null | undefined;
      // No error envelope: the request never reached the API.
      return errorOutcome(data ? err.message : `cannot reach the kanban API: ${err.message}`);
    }
    return errorOutcome(`${tool.name} failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Finds a tool by name among those visible to `identity`. */
export function findTool(name: string, identity: ToolIdentity): KanbanTool | undefined {
  return visibleTools(identity).find((t) => t.name === name);
}
