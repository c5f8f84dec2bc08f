// What scripts/start.mjs needs of @kanban/process once the runtime is built (no tsx to load it).
export { exitWithSupervisor } from "@kanban/process";
