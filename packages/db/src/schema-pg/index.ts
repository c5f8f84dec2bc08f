// The PostgreSQL mirror of ../schema: one pgTable per Hermes table, created inside each board's own
// schema (`kanban_<slug>`, see ../pg-board-schema.ts). drizzle-kit writes its migrations to ../../drizzle-pg.
export * from "./dispatchers.ts";
export * from "./kanban-hosts.ts";
export * from "./notify-subs.ts";
export * from "./task-attachments.ts";
export * from "./task-comments.ts";
export * from "./task-events.ts";
export * from "./task-links.ts";
export * from "./task-runs.ts";
export * from "./task-requires.ts";
export * from "./tasks.ts";
export * from "./kanban-incidents.ts";
export * from "./notify-rules.ts";
export * from "./kanban-usage.ts";
export * from "./kanban-budgets.ts";
export * from "./kanban-views.ts";
export * from "./kanban-flow.ts";
export * from "./kanban-gates.ts";
