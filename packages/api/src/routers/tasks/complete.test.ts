import fs from "node:fs";
import path from "node:path";
import { makeTempDir } from "@kanban/db/testing";
import { type Board, openBoard } from "@kanban/kernel";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createKanbanClient, type KanbanClient } from "../../client.ts";
import { type RunningServer, startServer } from "../../server.ts";
import { openBoardAgain } from "../../test/open-board-again.ts";
import { captureLogger, createTestApi } from "../../testing.ts";

/**
 * config.json's `kanban.failure_limit` is the board's breaker policy: a completion through the API
 * re-gates the parent's children against it (it used to judge them against the built-in 2).
 */
describe("tasks.complete re-gates children against config's failure_limit", () => {
  let t: ReturnType<typeof createTestApi>;
  beforeEach(() => {
    t = createTestApi({ config: { kanban: { failure_limit: 3 } } });
  });
  afterEach(() => t.cleanup());

  it("a child the breaker blocked after 2 failures (a dispatcher run with --failure-limit 2) goes ready when its parent completes", async () => {
    const { task: child } = await t.api.tasks.create({ title: "child" });
    const board = t.board();
    // The failures are booked by a dispatcher whose board runs with a limit of 2.
    const dispatcher = await openBoardAgain(t.location, { clock: t.clock, failureLimit: 2, warn: () => {} });
    try {
      for (let i = 0; i < 2; i++) {
        expect(await dispatcher.claimTask(child.id)).not.toBeNull();
        await dispatcher.recordTaskFailure(child.id, { error: "boom", outcome: "crashed", releaseClaim: true });
      }
    } finally {
      dispatcher.close();
    }
    expect(await board.requireTask(child.id)).toMatchObject({ status: "blocked", consecutive_failures: 2 });
    const { task: parent } = await t.api.tasks.create({ title: "parent" });
    await t.api.links.add({ parent_id: parent.id, child_id: child.id });
    await t.api.tasks.complete({ id: parent.id, result: "ok" });
    expect((await board.requireTask(child.id)).status).toBe("ready");
  });

  it("an edit of config.json's failure_limit counts at once, without reopening the board", async () => {
    t.writeConfig({ kanban: { failure_limit: 2 } });
    const board = t.board(); // opened under the old limit
    const { task: child } = await t.api.tasks.create({ title: "child" });
    for (let i = 0; i < 2; i++) {
      expect(await board.claimTask(child.id)).not.toBeNull();
      await board.recordTaskFailure(child.id, { error: "boom", outcome: "crashed", releaseClaim: true });
    }
    expect(await board.requireTask(child.id)).toMatchObject({ status: "blocked", consecutive_failures: 2 });
    const { task: parent } = await t.api.tasks.create({ title: "parent" });
    await t.api.links.add({ parent_id: parent.id, child_id: child.id });
    t.writeConfig({ kanban: { failure_limit: 3 } });
    await t.api.tasks.complete({ id: parent.id, result: "ok" });
    expect((await board.requireTask(child.id)).status).toBe("ready");
  });
});

/**
 * One source of the failure limit: the running server judges every breaker with config.json's
 * `failure_limit` as it is at the request, on every path that re-gates a child (completion,
 * recompute, unlink, archive, delete), with no per-call limit anywhere. Real HTTP on 127.0.0.1.
 */
describe("a running server judges breakers with config.json's failure_limit as it is now", () => {
  let dir: string;
  let removeDir: () => void;
  let server: RunningServer;
  let api: KanbanClient;
  let dispatcher: Board;
  let edits = 0;

  /** Rewrites config.json; a distinct mtime per edit, so an edit of the same size is never missed. */
  function setFailureLimit(n: number) {
    const file = path.join(dir, "config.json");
    fs.writeFileSync(file, JSON.stringify({ kanban: { failure_limit: n } }));
    const at = new Date(Date.UTC(2030, 0, 1) + ++edits * 1000);
    fs.utimesSync(file, at, at);
  }

  beforeEach(async () => {
    ({ dir, cleanup: removeDir } = makeTempDir("kanban-live-limit-"));
    setFailureLimit(2);
    server = await startServer({ port: 0, location: { home: dir }, logger: captureLogger(), terminate: () => {} });
    api = createKanbanClient({ url: `${server.url}/trpc` });
    // A dispatcher's own board (its --failure-limit 2) books the failures.
    dispatcher = openBoard({ location: { home: dir }, failureLimit: 2, warn: () => {} });
  });
  afterEach(async () => {
    dispatcher.close();
    await server.close();
    removeDir();
  });

  /** A task the breaker blocked after 2 failures (auto-blocked, not sticky), optionally under `parent`. */
  async function breakerBlocked(parent?: string): Promise<string> {
    const { task } = await api.tasks.create.mutate({ title: "child" });
    for (let i = 0; i < 2; i++) {
      expect(await dispatcher.claimTask(task.id)).not.toBeNull();
      await dispatcher.recordTaskFailure(task.id, { error: "boom", outcome: "crashed", releaseClaim: true });
    }
    if (parent) await api.links.add.mutate({ parent_id: parent, child_id: task.id });
    expect(await dispatcher.requireTask(task.id)).toMatchObject({ status: "blocked", consecutive_failures: 2 });
    return task.id;
  }

  const status = async (id: string) => (await api.tasks.get.query({ id })).task.status;
  const parentTask = async () => (await api.tasks.create.mutate({ title: "parent" })).task.id;

  it("tasks.recompute: held at the limit of 2, freed once config.json says 3, held again at 2", async () => {
    const child = await breakerBlocked();
    expect((await api.tasks.recompute.mutate()).promoted).toBe(0);
    expect(await status(child)).toBe("blocked");
    setFailureLimit(3);
    expect((await api.tasks.recompute.mutate()).promoted).toBe(1);
    expect(await status(child)).toBe("ready");
    const other = await breakerBlocked();
    setFailureLimit(2);
    expect((await api.tasks.recompute.mutate()).promoted).toBe(0);
    expect(await status(other)).toBe("blocked");
  });

  it("tasks.complete of the parent re-gates the child with the limit edited after the server started", async () => {
    const parent = await parentTask();
    const held = await breakerBlocked(parent);
    const other = await parentTask();
    const freed = await breakerBlocked(other);
    await api.tasks.complete.mutate({ id: parent, result: "ok" });
    expect(await status(held)).toBe("blocked");
    setFailureLimit(3);
    await api.tasks.complete.mutate({ id: other, result: "ok" });
    expect(await status(freed)).toBe("ready");
  });

  it("links.remove re-gates the child with the live limit", async () => {
    const parent = await parentTask();
    const child = await breakerBlocked(parent);
    setFailureLimit(3);
    expect((await api.links.remove.mutate({ parent_id: parent, child_id: child })).ok).toBe(true);
    expect(await status(child)).toBe("ready");
  });

  it("tasks.archive of the parent re-gates the child with the live limit", async () => {
    const parent = await parentTask();
    const child = await breakerBlocked(parent);
    setFailureLimit(3);
    await api.tasks.archive.mutate({ id: parent });
    expect(await status(child)).toBe("ready");
  });

  it("tasks.delete of the parent re-gates the child with the live limit", async () => {
    const parent = await parentTask();
    const child = await breakerBlocked(parent);
    setFailureLimit(3);
    await api.tasks.delete.mutate({ id: parent });
    expect(await status(child)).toBe("ready");
  });

  it("tasks.patch moving the parent to done re-gates the child with the live limit", async () => {
    const parent = await parentTask();
    const child = await breakerBlocked(parent);
    setFailureLimit(3);
    await api.tasks.patch.mutate({ id: parent, status: "done", result: "ok" });
    expect(await status(child)).toBe("ready");
  });
});
