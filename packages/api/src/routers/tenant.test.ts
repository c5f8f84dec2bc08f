import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { expectBoardPath } from "../test/board-path.ts";
import { codeOf, createTestApi, type TestApi } from "../testing.ts";

let t: TestApi;
let acme: ReturnType<TestApi["caller"]>;
let mine: string;
let theirs: string;

beforeEach(async () => {
  t = createTestApi();
  acme = t.caller("acme");
  mine = (await t.api.tasks.create({ title: "acme task", tenant: "acme" })).task.id;
  theirs = (await t.api.tasks.create({ title: "zeta task", tenant: "zeta", assignee: "zed" })).task.id;
});
afterEach(() => t.cleanup());

describe("a tenant-scoped caller", () => {
  it("cannot read another tenant's task: NOT_FOUND, worded like an unknown id", async () => {
    await expect(acme.tasks.get({ id: theirs })).rejects.toMatchObject({
      code: "NOT_FOUND",
      message: `task ${theirs} not found`,
    });
    // Thunks, called one at a time: a call started before the previous one is awaited would reject
    // with no handler attached yet (an unhandled rejection whenever the store answers asynchronously).
    for (const call of [
      () => acme.comments.list({ task_id: theirs }),
      () => acme.runs.list({ task_id: theirs }),
      () => acme.tasks.context({ id: theirs }),
      () => acme.tasks.log({ id: theirs }),
      () => acme.events.list({ task_id: theirs }),
      () => acme.notify.list({ task_id: theirs }),
      () => acme.diagnostics.list({ task_id: theirs }),
    ]) {
      expect(await codeOf(call())).toBe("NOT_FOUND");
    }
    expect((await acme.tasks.get({ id: mine })).task.title).toBe("acme task");
  });

  it("cannot write another tenant's task", async () => {
    for (const call of [
      () => acme.tasks.patch({ id: theirs, title: "pwned" }),
      () => acme.tasks.delete({ id: theirs }),
      () => acme.tasks.claim({ id: theirs }),
      () => acme.tasks.complete({ id: theirs }),
      () => acme.tasks.block({ id: theirs }),
      () => acme.tasks.archive({ id: theirs }),
      () => acme.tasks.reassign({ id: theirs, profile: "me" }),
      () => acme.comments.add({ task_id: theirs, body: "hi" }),
      () => acme.links.add({ parent_id: mine, child_id: theirs }),
      () => acme.notify.subscribe({ task_id: theirs, platform: "p", chat_id: "c" }),
    ]) {
      expect(await codeOf(call())).toBe("NOT_FOUND");
    }
    expect((await acme.tasks.bulk({ ids: [theirs, mine], priority: 3 })).results).toEqual([
      { id: theirs, ok: false, error: "not found" },
      { id: mine, ok: true },
    ]);
    expect(await t.board().getTask(theirs)).toMatchObject({ title: "zeta task", status: "ready", priority: 0 });
    expect(await t.board().listComments(theirs)).toEqual([]);
  });

  it("creates only in its own tenant, and cannot hang children off another tenant's task", async () => {
    const { task } = await acme.tasks.create({ title: "new", tenant: "zeta" });
    expect(task.tenant).toBe("acme");
    expect(await codeOf(acme.tasks.create({ title: "child", parents: [theirs] }))).toBe("BAD_REQUEST");
  });

  it("sees only its tenant on the board, in lists, stats, workers, events and diagnostics", async () => {
    await t.api.tasks.claim({ id: theirs });
    const view = await acme.board.get({ tenant: "zeta" });
    expect(view.columns.flatMap((c) => c.tasks.map((x) => x.id))).toEqual([mine]);
    expect(view.tenants).toEqual(["acme"]);
    expect(view.assignees).toEqual([]);
    expect((await acme.board.column({ column: "running" })).tasks).toEqual([]);
    expect((await acme.tasks.list({ tenant: "zeta" })).tasks.map((x) => x.id)).toEqual([mine]);
    expect((await acme.stats.get()).by_status).toEqual({ ready: 1 });
    expect((await acme.assignees.list()).assignees).toEqual([]);
    expect((await acme.workers.active()).count).toBe(0);
    expect(new Set((await acme.events.list()).events.map((e) => e.task_id))).toEqual(new Set([mine]));
    expect((await acme.boards.list()).boards[0]).toMatchObject({
      total: 1,
      counts: { ready: 1 },
      db_path: "",
      default_workdir: null,
    });
    expectBoardPath((await t.api.boards.list()).boards[0]?.db_path, "default");
    expect((await acme.config.get()).default_tenant).toBe("acme");
  });

  it("is refused board-wide administration (FORBIDDEN)", async () => {
    for (const call of [
      () => acme.boards.create({ slug: "x" }),
      () => acme.boards.switch({ slug: "default" }),
      () => acme.dispatcher.status(),
      () => acme.tasks.recompute(),
    ]) {
      expect(await codeOf(call())).toBe("FORBIDDEN");
    }
  });

  it("cannot see another tenant's runs", async () => {
    const { run_id } = await t.api.tasks.claim({ id: theirs });
    expect(await codeOf(acme.runs.get({ run_id: run_id ?? 0 }))).toBe("NOT_FOUND");
    expect(await codeOf(acme.runs.terminate({ run_id: run_id ?? 0 }))).toBe("NOT_FOUND");
  });
});

describe("a tenant-scoped caller and the operator's cross-tenant links", () => {
  it("sees no other tenant's id or count in links, link counts, progress, the drawer or the worker context", async () => {
    // The operator (unscoped) links zeta's done task above acme's, and a zeta child below it.
    await t.api.tasks.claim({ id: theirs });
    await t.api.tasks.complete({ id: theirs, result: "zeta secret handoff" });
    const zetaChild = (await t.api.tasks.create({ title: "zeta child", tenant: "zeta" })).task.id;
    await t.api.links.add({ parent_id: theirs, child_id: mine });
    await t.api.links.add({ parent_id: mine, child_id: zetaChild });
    const foreign = [theirs, zetaChild];

    const listed = await acme.tasks.list({ include_links: true });
    expect(listed.tasks.map((x) => ({ id: x.id, parents: x.parents, children: x.children }))).toEqual([
      { id: mine, parents: [], children: [] },
    ]);
    const view = await acme.board.get();
    const card = view.columns.flatMap((c) => c.tasks).find((x) => x.id === mine);
    expect(card?.link_counts).toEqual({ parents: 0, children: 0 });
    expect(card?.progress).toBeNull();
    expect(card?.status).toBe("ready");
    const column = await acme.board.column({ column: "ready" });
    expect(column.tasks.find((x) => x.id === mine)?.link_counts).toEqual({ parents: 0, children: 0 });
    const drawer = await acme.tasks.get({ id: mine });
    expect(drawer.task.link_counts).toEqual({ parents: 0, children: 0 });
    expect(drawer.links).toEqual({ parents: [], children: [] });
    expect(drawer.child_results).toEqual([]);
    expect(drawer.worker_context).not.toContain("zeta secret handoff");
    const context = await acme.tasks.context({ id: mine });
    const events = await acme.events.list();
    // The link event is written on the child: acme's task keeps it, without the zeta parent's id.
    expect(events.events.filter((e) => e.kind === "linked").map((e) => e.payload)).toEqual([
      { parent: null, child: mine },
    ]);
    for (const body of [listed, view, column, drawer, context, events]) {
      for (const id of foreign) expect(JSON.stringify(body)).not.toContain(id);
    }
    // The live stream (events.subscribe) replays the same link event without the zeta parent's id.
    const stream = (await acme.events.subscribe({ after: 0 })) as AsyncIterable<unknown>;
    const streamed: string[] = [];
    for await (const item of stream) {
      streamed.push(JSON.stringify(item));
      if (streamed.at(-1)?.includes('"linked"')) break;
    }
    expect(streamed.at(-1)).toContain(`"parent":null`);
    for (const id of foreign) expect(streamed.join("\n")).not.toContain(id);
    // Each foreign id is still unknown to acme.
    for (const id of foreign) expect(await codeOf(acme.tasks.get({ id }))).toBe("NOT_FOUND");

    // The operator sees every link.
    const all = await t.api.tasks.list({ include_links: true });
    expect(all.tasks.find((x) => x.id === mine)).toMatchObject({ parents: [theirs], children: [zetaChild] });
    expect((await t.api.tasks.get({ id: mine })).task.link_counts).toEqual({ parents: 1, children: 1 });
  });
});

describe("a tenant-scoped caller refused because of another tenant's parent", () => {
  it("is not told that parent's id or title", async () => {
    await t.api.tasks.patch({ id: theirs, title: "zeta secret title" });
    await t.api.links.add({ parent_id: theirs, child_id: mine });
    for (const call of [
      () => acme.tasks.patch({ id: mine, status: "ready" }),
      () => acme.tasks.promote({ id: mine }),
    ]) {
      const text = await call().then(
        (ok) => JSON.stringify(ok),
        (err: Error) => err.message,
      );
      expect(text).toContain("a parent outside this scope");
      expect(text).not.toContain(theirs);
      expect(text).not.toContain("zeta secret title");
    }
  });
});
