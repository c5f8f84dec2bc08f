/**
 * The agent tool surface of the board, in one place: the kanban_* tools (name, zod input
 * schema, description, handler over a small client interface), the gating and error texts, the
 * response cap, and the worker guidance. `kanban mcp` serves them over MCP; other agent runtimes
 * import them from `@kanban/cli/tools` and hand over their own client.
 */
export { capResponse, MAX_RESPONSE_BYTES } from "./cap.ts";
export type { KanbanToolClient, OutboxSent, ToolContext, ToolIdentity, ToolOutbox } from "./client.ts";
export {
  KANBAN_TOOLS,
  type KanbanTool,
  kanbanBlock,
  kanbanCancel,
  kanbanComment,
  kanbanComplete,
  kanbanCreate,
  kanbanGates,
  kanbanHeartbeat,
  kanbanLink,
  kanbanList,
  kanbanRequestChanges,
  kanbanRequestReview,
  kanbanShow,
  kanbanUnblock,
  kanbanWhy,
  LIST_LIMIT_DEFAULT,
  LIST_LIMIT_MAX,
  ToolError,
} from "./definitions.ts";
export { KANBAN_GUIDANCE } from "./guidance.ts";
export { kanbanNotifySubscribe } from "./notify.ts";
export { findTool, runKanbanTool, type ToolOutcome, visibleTools } from "./run.ts";
