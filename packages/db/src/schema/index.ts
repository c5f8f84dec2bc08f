export * from "./notify-subs.ts";
export * from "./task-attachments.ts";
export * from "./task-comments.ts";
export * from "./task-events.ts";
export * from "./task-links.ts";
export * from "./task-runs.ts";
export * from "./tasks.ts";
