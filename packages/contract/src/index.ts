export * from "./events.ts";
export * from "./runs.ts";
export * from "./statuses.ts";
export * from "./tasks.ts";
export * from "./redact.ts";
