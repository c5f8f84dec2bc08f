import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { appRouter } from "./root.ts";
import { createTestApi, type TestApi } from "./testing.ts";

// taskProcedure/taskIdProcedure (trpc.ts) are the one place a request naming a task is scoped: this
// walks the whole router, so a procedure added later without them fails here, not in production.

interface ProcedureDef {
  _def: {
    type: string;
    inputs: { safeParse(v: unknown): { success: boolean; error?: { issues: { path: PropertyKey[] }[] } } }[];
  };
}

/** Every query and mutation whose input requires `id` or `task_id`, with the key it names the task by. */
function taskNamingProcedures(): { path: string; key: "id" | "task_id" }[] {
  const procedures = (appRouter as unknown as { _def: { procedures: Record<string, ProcedureDef> } })._def.procedures;
  const out: { path: string; key: "id" | "task_id" }[] = [];
  for (const [path, proc] of Object.entries(procedures)) {
    if (proc._def.type === "subscription") continue;
    const missing = new Set(
      proc._def.inputs.flatMap((parser) => parser.safeParse({}).error?.issues.map((i) => i.path.join(".")) ?? []),
    );
    if (missing.has("id")) out.push({ path, key: "id" });
    else if (missing.has("task_id")) out.push({ path, key: "task_id" });
  }
  return out;
}

/** What the other required fields of those procedures need to pass their own schemas. */
const FILLER = { result: "r", body: "b", platform: "p", chat_id: "c" };

type Call = (input: Record<string, unknown>) => Promise<unknown>;

function procedureOf(caller: ReturnType<TestApi["caller"]>, path: string): Call {
  const [group, name] = path.split(".") as [string, string];
  return (caller as unknown as Record<string, Record<string, Call>>)[group]?.[name] as Call;
}

async function rejection(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (err) {
    return { code: (err as { code: string }).code, message: (err as Error).message };
  }
  throw new Error("expected the call to be refused");
}

let t: TestApi;
let theirs: string;
beforeEach(async () => {
  t = createTestApi();
  theirs = (await t.api.tasks.create({ title: "zeta's", tenant: "zeta", assignee: "zed" })).task.id;
});
afterEach(() => t.cleanup());

describe("taskProcedure: a procedure that names one task", () => {
  it("finds the procedures to check (the walk is not vacuous)", () => {
    const paths = taskNamingProcedures().map((p) => p.path);
    expect(paths).toEqual(expect.arrayContaining(["tasks.get", "tasks.complete", "comments.add", "runs.list"]));
    expect(paths.length).toBeGreaterThanOrEqual(20);
  });

  it("answers another tenant's task exactly as an unknown id, in every procedure, and changes nothing", async () => {
    const acme = t.caller("acme");
    const board = t.board();
    const before = {
      task: board.getTask(theirs),
      events: board.listEvents(theirs),
      comments: board.listComments(theirs),
    };
    for (const { path, key } of taskNamingProcedures()) {
      const call = procedureOf(acme, path);
      const foreign = await rejection(call({ ...FILLER, [key]: theirs }));
      const unknown = await rejection(call({ ...FILLER, [key]: "t_nosuchtask" }));
      expect(foreign, path).toEqual({ code: "NOT_FOUND", message: `task ${theirs} not found` });
      expect(unknown, path).toEqual({ code: "NOT_FOUND", message: "task t_nosuchtask not found" });
    }
    expect({
      task: board.getTask(theirs),
      events: board.listEvents(theirs),
      comments: board.listComments(theirs),
    }).toEqual(before);
  });

  it("hands the procedure the task it names (the operator reaches every tenant's task)", async () => {
    const detail = await t.api.tasks.get({ id: theirs });
    expect(detail.task.id).toBe(theirs);
    expect((await t.caller("zeta").tasks.context({ id: theirs })).task_id).toBe(theirs);
  });
});
