import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { appRouter } from "./root.ts";
import { HOST_PROCEDURES } from "./run-scope.ts";
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
      task: await board.getTask(theirs),
      events: await board.listEvents(theirs),
      comments: await board.listComments(theirs),
    };
    for (const { path, key } of taskNamingProcedures()) {
      const call = procedureOf(acme, path);
      const foreign = await rejection(call({ ...FILLER, [key]: theirs }));
      const unknown = await rejection(call({ ...FILLER, [key]: "t_nosuchtask" }));
      expect(foreign, path).toEqual({ code: "NOT_FOUND", message: `task ${theirs} not found` });
      expect(unknown, path).toEqual({ code: "NOT_FOUND", message: "task t_nosuchtask not found" });
    }
    expect({
      task: await board.getTask(theirs),
      events: await board.listEvents(theirs),
      comments: await board.listComments(theirs),
    }).toEqual(before);
  });

  it("hands the procedure the task it names (the operator reaches every tenant's task)", async () => {
    const detail = await t.api.tasks.get({ id: theirs });
    expect(detail.task.id).toBe(theirs);
    expect((await t.caller("zeta").tasks.context({ id: theirs })).task_id).toBe(theirs);
  });
});

/** The keys a procedure's input knows (a wrong type there is an issue at that key), among `keys`. */
function namedKeys(proc: ProcedureDef, keys: readonly string[]): string[] {
  return keys.filter((k) =>
    proc._def.inputs.some((parser) =>
      (parser.safeParse({ [k]: { wrong: 1 } }).error?.issues ?? []).some((i) => i.path[0] === k),
    ),
  );
}

/** Every query and mutation naming a task (or run) by any key, required or optional, with those keys. */
function anyTaskNamingProcedures(): { path: string; keys: string[] }[] {
  const procedures = (appRouter as unknown as { _def: { procedures: Record<string, ProcedureDef> } })._def.procedures;
  return Object.entries(procedures)
    .filter(([, proc]) => proc._def.type !== "subscription")
    .map(([path, proc]) => ({
      path,
      keys: namedKeys(proc, ["id", "task_id", "parent_id", "child_id", "ids", "run_id"]),
    }))
    .filter((p) => p.keys.length > 0);
}

describe("every other way of naming a task: optional task_id, link ends, bulk ids, run ids", () => {
  it("finds them (the walk is not vacuous)", () => {
    const found = new Map(anyTaskNamingProcedures().map((p) => [p.path, p.keys]));
    expect(found.get("links.add")).toEqual(["parent_id", "child_id"]);
    expect(found.get("tasks.bulk")).toEqual(["ids"]);
    expect(found.get("runs.get")).toEqual(["run_id"]);
    for (const path of ["events.list", "notify.list", "diagnostics.list", "runs.terminate"])
      expect(found.has(path), path).toBe(true);
  });

  it("answers another tenant's task or run exactly as an unknown one, and changes nothing", async () => {
    const acme = t.caller("acme");
    const board = t.board();
    const mine = (await acme.tasks.create({ title: "acme's" })).task.id;
    await t.api.tasks.claim({ id: theirs });
    const foreignRun = (await board.requireTask(theirs)).current_run_id as number;
    const snapshot = async () => ({
      task: await board.getTask(theirs),
      events: await board.listEvents(theirs),
      comments: await board.listComments(theirs),
      runs: await board.listRuns(theirs),
      parents: await board.parentIds(theirs),
      children: await board.linkedChildren(theirs),
      mine: await board.getTask(mine),
    });
    const before = await snapshot();
    const checked: string[] = [];
    for (const { path, keys } of anyTaskNamingProcedures()) {
      const call = procedureOf(acme, path);
      for (const key of keys) {
        if (key === "ids") {
          const foreign = (await call({ ...FILLER, priority: 3, ids: [theirs] })) as { results: unknown[] };
          const unknown = (await call({ ...FILLER, priority: 3, ids: ["t_nosuchtask"] })) as { results: unknown[] };
          expect(foreign.results, path).toEqual([{ id: theirs, ok: false, error: "not found" }]);
          expect(unknown.results, path).toEqual([{ id: "t_nosuchtask", ok: false, error: "not found" }]);
        } else if (key === "run_id" && HOST_PROCEDURES.has(path)) {
          // A remote host's verbs refuse every caller but a host token before reading the run: the
          // same FORBIDDEN for a foreign run as for an unknown one.
          const foreign = await rejection(call({ ...FILLER, host_id: "kh-0123456789abcdef", run_id: foreignRun }));
          const unknown = await rejection(call({ ...FILLER, host_id: "kh-0123456789abcdef", run_id: 987654 }));
          expect(foreign.code, path).toBe("FORBIDDEN");
          expect(foreign, path).toEqual(unknown);
        } else if (key === "run_id") {
          const foreign = await rejection(call({ ...FILLER, run_id: foreignRun }));
          const unknown = await rejection(call({ ...FILLER, run_id: 987654 }));
          expect(foreign, path).toEqual({ code: "NOT_FOUND", message: `run ${foreignRun} not found` });
          expect(unknown, path).toEqual({ code: "NOT_FOUND", message: "run 987654 not found" });
        } else {
          // A link names two tasks: the other end is the caller's own, so only the foreign one can refuse.
          const other = key === "parent_id" ? { child_id: mine } : key === "child_id" ? { parent_id: mine } : {};
          const foreign = await rejection(call({ ...FILLER, ...other, [key]: theirs }));
          const unknown = await rejection(call({ ...FILLER, ...other, [key]: "t_nosuchtask" }));
          expect(foreign, `${path} ${key}`).toEqual({ code: "NOT_FOUND", message: `task ${theirs} not found` });
          expect(unknown, `${path} ${key}`).toEqual({ code: "NOT_FOUND", message: "task t_nosuchtask not found" });
        }
        checked.push(`${path}.${key}`);
      }
    }
    expect(checked).toEqual(
      expect.arrayContaining([
        "links.add.child_id",
        "links.remove.parent_id",
        "tasks.bulk.ids",
        "runs.get.run_id",
        "events.list.task_id",
      ]),
    );
    expect(await snapshot()).toEqual(before);
  });
});
