// Entry point of the `kanban-dispatcher` bin (loaded through tsx by bin/kanban-dispatcher.mjs).
import { main } from "./cli.ts";

process.exitCode = await main(process.argv.slice(2));
// Workers are unref'd children and every timer is finished by now; exit without waiting on stdio handles.
process.exit();
