import type { RouterInputs, RouterOutputs } from "@kanban/api/client";

type Query<P extends keyof RouterInputs, K extends keyof RouterInputs[P] & keyof RouterOutputs[P]> = {
  query(input: RouterInputs[P][K]): Promise<RouterOutputs[P][K]>;
};
type Mutation<P extends keyof RouterInputs, K extends keyof RouterInputs[P] & keyof RouterOutputs[P]> = {
  mutate(input: RouterInputs[P][K]): Promise<RouterOutputs[P][K]>;
};

/**
 * The part of the API the agent tools use. The CLI's tRPC client (HTTP or in-process) satisfies it
 * as is; another runtime can hand over its own client, or an adapter over something else.
 */
export interface KanbanToolClient {
  tasks: {
    get: Query<"tasks", "get">;
    list: Query<"tasks", "list">;
    create: Mutation<"tasks", "create">;
    complete: Mutation<"tasks", "complete">;
    block: Mutation<"tasks", "block">;
    unblock: Mutation<"tasks", "unblock">;
    cancel: Mutation<"tasks", "cancel">;
    heartbeat: Mutation<"tasks", "heartbeat">;
    recompute: Mutation<"tasks", "recompute">;
    why: Query<"tasks", "why">;
    requestReview: Mutation<"tasks", "requestReview">;
    requestChanges: Mutation<"tasks", "requestChanges">;
  };
  comments: { add: Mutation<"comments", "add">; list: Query<"comments", "list"> };
  links: { add: Mutation<"links", "add"> };
  notify: { subscribe: Mutation<"notify", "subscribe">; addRule: Mutation<"notify", "addRule"> };
  budgets: { allow: Mutation<"budgets", "allow"> };
  gates: { card: Query<"gates", "card"> };
}

/** Who is calling: a dispatched worker (task set) or an orchestrator/person (task null). */
export interface ToolIdentity {
  /** KANBAN_TASK: the one task a worker may mutate. */
  task: string | null;
  /** KANBAN_RUN_ID: the fence of the worker's calls on its own task. */
  runId: number | null;
  /** KANBAN_CLAIM_LOCK: the claim the worker holds. */
  claimLock: string | null;
  /** KANBAN_PROFILE: author of comments and creator of cards. */
  profile: string | null;
  /** KANBAN_TENANT: default tenant of created cards. */
  tenant: string | null;
  /** KANBAN_SESSION_ID: stamped on created cards and on the worker's completion metadata. */
  sessionId: string | null;
}

/** What became of a terminal call kept in the completion outbox. */
export type OutboxSent =
  | { state: "delivered"; ok: true; replayed?: boolean; gated?: string }
  | { state: "delivered"; ok: false; code: string; message: string }
  /** The server did not answer (down, network cut, 5xx): the entry stays on disk and the host re-sends it. */
  | { state: "pending" };

/**
 * The completion outbox of a remote host's worker (issue 15): `send` writes the terminal call to the
 * host's disk, then sends it once. Null when this call is not one for the outbox (another task, no
 * run); it throws only when the entry cannot be written, and then nothing was sent.
 */
export interface ToolOutbox {
  send(verb: "complete" | "block", taskId: string, input: Record<string, unknown>): Promise<OutboxSent | null>;
}

export interface ToolContext {
  client: KanbanToolClient;
  identity: ToolIdentity;
  /** Set for a worker of a remote host (KANBAN_OUTBOX): kanban_complete and kanban_block go through it. */
  outbox?: ToolOutbox | null;
}
