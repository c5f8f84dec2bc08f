// A service using the board as a library, run by src/pack-install.test.ts with plain `node` from a
// temporary project where the packed packages are installed: no tsx, no TypeScript, no monorepo.
// Every kernel call is awaited (the store is becoming asynchronous; awaiting a plain value works too).
import { createKanbanClient } from "@kanban/api/client";
import { KANBAN_TOOLS } from "@kanban/cli/tools";
import { openBoard } from "@kanban/kernel";

const [dbPath] = process.argv.slice(2);
const board = await openBoard({ path: dbPath });
try {
  const created = await board.createTask({ title: "Ship the kernel as a package" });
  const claimed = await board.claimTask(created.id, { claimer: "pack-test" });
  const fence = { expected_run_id: claimed?.current_run_id ?? null };
  await board.completeTask(created.id, { ...fence, result: "installed from a tarball" });
  const done = await board.requireTask(created.id);
  const report = {
    kernel: import.meta.resolve("@kanban/kernel"),
    claimedStatus: claimed?.status ?? null,
    status: done.status,
    result: done.result,
    tools: KANBAN_TOOLS.map((t) => t.name),
    // tRPC's client is a proxy of functions, one per router path.
    client: typeof createKanbanClient({ url: "http://127.0.0.1:9/trpc" }).tasks,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
} finally {
  await board.close();
}
