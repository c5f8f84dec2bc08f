import type { BoardLocation } from "@kanban/db";
import { mintRunToken } from "@kanban/db";
import { makeTempDir } from "@kanban/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKanbanClient, type KanbanClient } from "./client.ts";
import { type RunningServer, startServer } from "./server.ts";
import { captureLogger } from "./testing.ts";

/**
 * A worker's run token against a real server: it reaches its own task (and what it hands work
 * to) while its run lasts, and nothing else — not another task, not another tenant, not after the
 * run ended, not with a forged or foreign signature.
 */
const ADMIN = "admin-token-0123456789abcdef";

let home: ReturnType<typeof makeTempDir>;
let server: RunningServer;
let admin: KanbanClient;
let logger: ReturnType<typeof captureLogger>;

beforeAll(async () => {
  home = makeTempDir("kanban-runscope-");
  const location: BoardLocation = { home: home.dir };
  logger = captureLogger();
  server = await startServer({ port: 0, location, logger, token: ADMIN, tenantTokens: {}, terminate: () => {} });
  admin = createKanbanClient({ url: `${server.url}/trpc`, token: ADMIN });
});
afterAll(async () => {
  await server.close();
  home.cleanup();
});

/** A claimed task of `tenant` and the token its worker would get. */
async function claimedTask(tenant: string | null, title = "work") {
  const { task } = await admin.tasks.create.mutate({ title, assignee: "coder", tenant });
  const claimed = await admin.tasks.claim.mutate({ id: task.id });
  const run = claimed.run_id ?? 0;
  const token = mintRunToken(home.dir, { board: "default", task: task.id, run });
  return { id: task.id, run, token, client: createKanbanClient({ url: `${server.url}/trpc`, token }) };
}

async function refusal(
  p: Promise<unknown>,
): Promise<{ code: string; kanbanCode: string | null; httpStatus: number; message: string }> {
  try {
    await p;
  } catch (err) {
    const e = err as { message: string; data?: { code: string; kanbanCode: string | null; httpStatus: number } };
    return {
      code: e.data?.code ?? "?",
      kanbanCode: e.data?.kanbanCode ?? null,
      httpStatus: e.data?.httpStatus ?? 0,
      message: e.message,
    };
  }
  throw new Error("expected a refusal");
}

describe("a worker's run token", () => {
  it("does its own task's work: show, context, heartbeat, comment, follow-up in its tenant, complete", async () => {
    const w = await claimedTask("acme");
    const b = { board: "default" };
    expect((await w.client.tasks.get.query({ ...b, id: w.id })).task.id).toBe(w.id);
    expect((await w.client.tasks.context.query({ ...b, id: w.id })).context).toContain("work");
    await w.client.tasks.heartbeat.mutate({ ...b, id: w.id, expected_run_id: w.run, note: "half way" });
    await w.client.comments.add.mutate({ ...b, task_id: w.id, body: "note", author: "coder" });
    const follow = (
      await w.client.tasks.create.mutate({
        ...b,
        title: "follow-up",
        assignee: "writer",
        parents: [w.id],
        created_by: "coder",
      })
    ).task;
    expect(follow.tenant).toBe("acme");
    // An orchestrator's second card may hang off its first (created by its profile during this run).
    const loose = (
      await w.client.tasks.create.mutate({
        ...b,
        title: "design",
        assignee: "architect",
        tenant: "acme",
        created_by: "coder",
      })
    ).task;
    const chained = (
      await w.client.tasks.create.mutate({
        ...b,
        title: "implement",
        assignee: "backend",
        parents: [loose.id],
        created_by: "coder",
      })
    ).task;
    await w.client.comments.add.mutate({ ...b, task_id: follow.id, body: "start from the handoff" });
    expect((await w.client.tasks.get.query({ ...b, id: chained.id })).task.tenant).toBe("acme");
    expect((await w.client.assignees.list.query(b)).assignees.length).toBeGreaterThan(0);
    const done = await w.client.tasks.complete.mutate({
      ...b,
      id: w.id,
      expected_run_id: w.run,
      summary: "done",
      created_cards: [follow.id, loose.id, chained.id],
    });
    expect(done.task.status).toBe("done");
  });

  it("cannot read another task of its tenant, another tenant's task, or list the board", async () => {
    const w = await claimedTask("acme");
    const sibling = (await admin.tasks.create.mutate({ title: "acme other", tenant: "acme", assignee: "x" })).task;
    const foreign = (await admin.tasks.create.mutate({ title: "globex secret", tenant: "globex", assignee: "x" })).task;
    const b = { board: "default" };
    for (const id of [sibling.id, foreign.id, "t_ffffffff"]) {
      expect(await refusal(w.client.tasks.get.query({ ...b, id }))).toMatchObject({ httpStatus: 403 });
      expect(await refusal(w.client.comments.add.mutate({ ...b, task_id: id, body: "x" }))).toMatchObject({
        httpStatus: 403,
      });
      expect(await refusal(w.client.tasks.context.query({ ...b, id }))).toMatchObject({ httpStatus: 403 });
      expect(await refusal(w.client.tasks.create.mutate({ ...b, title: "hang", parents: [id] }))).toMatchObject({
        httpStatus: 400,
      });
      expect(await refusal(w.client.links.add.mutate({ ...b, parent_id: w.id, child_id: id }))).toMatchObject({
        httpStatus: 403,
      });
    }
    const forbidden: (() => Promise<unknown>)[] = [
      () => w.client.tasks.list.query(b),
      () => w.client.board.get.query(b),
      () => w.client.events.list.query(b),
      () => w.client.boards.list.query(),
      () => w.client.tasks.reclaim.mutate({ ...b, id: sibling.id }),
      () => w.client.tasks.patch.mutate({ ...b, id: w.id, priority: 9 }),
      () => w.client.tasks.create.mutate({ ...b, title: "elsewhere", tenant: "globex" }),
    ];
    for (const call of forbidden) expect(await refusal(call())).toMatchObject({ code: "FORBIDDEN", httpStatus: 403 });
    // Another board is out of reach too.
    await admin.boards.create.mutate({ slug: "other" });
    expect(await refusal(w.client.tasks.get.query({ board: "other", id: w.id }))).toMatchObject({ httpStatus: 403 });
    expect(await refusal(w.client.tasks.heartbeat.mutate({ ...b, id: w.id }))).toMatchObject({
      kanbanCode: "STALE_RUN",
    });
  });

  it("on a board that is not the server's current one, an omitted board means the run's board", async () => {
    await admin.boards.create.mutate({ slug: "side" });
    const { task } = await admin.tasks.create.mutate({
      board: "side",
      title: "side work",
      assignee: "coder",
      tenant: "acme",
    });
    const run = (await admin.tasks.claim.mutate({ board: "side", id: task.id })).run_id ?? 0;
    const w = createKanbanClient({
      url: `${server.url}/trpc`,
      token: mintRunToken(home.dir, { board: "side", task: task.id, run }),
    });
    // What an MCP tool sends: no board at all.
    expect((await w.tasks.get.query({ id: task.id })).task.title).toBe("side work");
    await w.tasks.heartbeat.mutate({ id: task.id, expected_run_id: run });
    expect(await refusal(w.tasks.get.query({ board: "default", id: task.id }))).toMatchObject({ httpStatus: 403 });
    expect((await w.tasks.complete.mutate({ id: task.id, expected_run_id: run, summary: "ok" })).task.status).toBe(
      "done",
    );
  });

  it("is refused once its run ended (completed, blocked or reclaimed), with STALE_RUN", async () => {
    const b = { board: "default" };
    const completed = await claimedTask("acme");
    await completed.client.tasks.complete.mutate({
      ...b,
      id: completed.id,
      expected_run_id: completed.run,
      summary: "ok",
    });
    const blocked = await claimedTask(null);
    await blocked.client.tasks.block.mutate({
      ...b,
      id: blocked.id,
      expected_run_id: blocked.run,
      reason: "need a human",
    });
    const reclaimed = await claimedTask("acme");
    await admin.tasks.reclaim.mutate({ id: reclaimed.id });
    await admin.tasks.claim.mutate({ id: reclaimed.id });
    for (const w of [completed, blocked, reclaimed]) {
      expect(await refusal(w.client.tasks.get.query({ ...b, id: w.id }))).toMatchObject({
        httpStatus: 409,
        kanbanCode: "STALE_RUN",
      });
      expect(await refusal(w.client.tasks.heartbeat.mutate({ ...b, id: w.id, expected_run_id: w.run }))).toMatchObject({
        kanbanCode: "STALE_RUN",
      });
    }
  });

  it("a forged, altered or foreign token is 401 and no token reaches the log", async () => {
    const w = await claimedTask("acme");
    const elsewhere = makeTempDir("kanban-runscope-foreign-");
    try {
      const foreign = mintRunToken(elsewhere.dir, { board: "default", task: w.id, run: w.run });
      const other = await claimedTask("acme");
      const [prefix, , sig] = w.token.split(".");
      const swapped = `${prefix}.${other.token.split(".")[1]}.${sig}`;
      for (const token of [foreign, swapped, `${w.token}x`]) {
        const c = createKanbanClient({ url: `${server.url}/trpc`, token });
        expect(await refusal(c.tasks.get.query({ board: "default", id: w.id }))).toMatchObject({ httpStatus: 401 });
      }
      const log = JSON.stringify(logger.lines);
      for (const token of [foreign, swapped, w.token, other.token]) expect(log).not.toContain(token);
    } finally {
      elsewhere.cleanup();
    }
  });
});
