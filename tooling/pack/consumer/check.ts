// Type-checked (never run) by src/pack-install.test.ts against the installed packages' declarations,
// as a TypeScript service importing them would be.
import { createKanbanClient, type KanbanClient } from "@kanban/api/client";
import { KANBAN_TOOLS, type KanbanTool } from "@kanban/cli/tools";
import { type Board, openBoard } from "@kanban/kernel";

export async function shipOne(path: string): Promise<string> {
  const board: Board = await openBoard({ path });
  try {
    const task = await board.createTask({ title: "typed", body: "from the declarations" });
    const id: string = task.id;
    // @ts-expect-error a misspelt field is refused: the declarations carry real types, not `any`
    await board.createTask({ titel: "typo" });
    const claimed = await board.claimTask(id, { claimer: "check" });
    const runId: number | null | undefined = claimed?.current_run_id;
    await board.completeTask(id, { expected_run_id: runId ?? null, result: "done" });
    return id;
  } finally {
    await board.close();
  }
}

export const client: KanbanClient = createKanbanClient({ url: "http://127.0.0.1:9/trpc", token: null });
export const toolNames: string[] = KANBAN_TOOLS.map((tool: KanbanTool) => tool.name);
