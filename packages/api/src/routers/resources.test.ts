import fs from "node:fs";
import path from "node:path";
import { dispatcherLockPath, dispatcherNudgePath, writeDispatcherStatus } from "@kanban/db";
import { rawSql } from "@kanban/kernel/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { testStoreIsPostgres } from "../test/pg-store.ts";
import { codeOf, createTestApi, type TestApi, waitFor } from "../testing.ts";

let t: TestApi;
beforeEach(() => {
  t = createTestApi();
});
afterEach(() => t.cleanup());

describe("comments", () => {
  it("adds (author defaults to dashboard) and lists; blank body is 'body is required'", async () => {
    const { task } = await t.api.tasks.create({ title: "t" });
    const { comment_id } = await t.api.comments.add({ task_id: task.id, body: " hi " });
    expect(comment_id).toBeGreaterThan(0);
    expect((await t.api.comments.list({ task_id: task.id })).comments).toMatchObject([
      { author: "dashboard", body: "hi" },
    ]);
    await expect(t.api.comments.add({ task_id: task.id, body: "  " })).rejects.toMatchObject({
      code: "BAD_REQUEST",
      message: "body is required",
    });
    expect(await codeOf(t.api.comments.add({ task_id: task.id, body: "x".repeat(64 * 1024 + 1) }))).toBe("BAD_REQUEST");
    expect(await codeOf(t.api.comments.add({ task_id: "t_none", body: "x" }))).toBe("NOT_FOUND");
    expect(await codeOf(t.api.comments.list({ task_id: "t_none" }))).toBe("NOT_FOUND");
  });
});

describe("links", () => {
  it("adds and removes edges; self-links, cycles and unknown ids are 400", async () => {
    const a = (await t.api.tasks.create({ title: "a" })).task;
    const b = (await t.api.tasks.create({ title: "b" })).task;
    expect(await t.api.links.add({ parent_id: a.id, child_id: b.id })).toEqual({ ok: true, demoted: true });
    expect((await t.board().getTask(b.id))?.status).toBe("todo");
    expect(await codeOf(t.api.links.add({ parent_id: b.id, child_id: a.id }))).toBe("BAD_REQUEST");
    expect(await codeOf(t.api.links.add({ parent_id: a.id, child_id: a.id }))).toBe("BAD_REQUEST");
    expect(await codeOf(t.api.links.add({ parent_id: a.id, child_id: "t_none" }))).toBe("BAD_REQUEST");
    expect(await t.api.links.remove({ parent_id: a.id, child_id: b.id })).toEqual({ ok: true });
    expect((await t.board().getTask(b.id))?.status).toBe("ready");
    expect(await t.api.links.remove({ parent_id: a.id, child_id: b.id })).toEqual({ ok: false });
  });
});

describe("runs and workers", () => {
  it("lists and gets runs; 404 for an unknown run", async () => {
    const { task } = await t.api.tasks.create({ title: "t", assignee: "w" });
    const { run_id } = await t.api.tasks.claim({ id: task.id });
    const { runs } = await t.api.runs.list({ task_id: task.id });
    expect(runs).toMatchObject([{ id: run_id, task_id: task.id, profile: "w", status: "running", ended_at: null }]);
    expect((await t.api.runs.get({ run_id: run_id ?? 0 })).run.id).toBe(run_id);
    expect(await codeOf(t.api.runs.get({ run_id: 999_999 }))).toBe("NOT_FOUND");
    expect(await codeOf(t.api.runs.get({ run_id: 0 }))).toBe("BAD_REQUEST");
  });

  it("workers.active lists open runs with task, pid, lease and heartbeat", async () => {
    const { task } = await t.api.tasks.create({ title: "busy", assignee: "w" });
    const { run_id } = await t.api.tasks.claim({ id: task.id, claimer: "h:1", ttl_seconds: 60 });
    await t.board().recordSpawn(task.id, 777, run_id ?? 0);
    const r = await t.api.workers.active();
    expect(r).toMatchObject({ count: 1, checked_at: t.clock.seconds });
    expect(r.workers[0]).toMatchObject({
      run_id,
      task_id: task.id,
      task_title: "busy",
      task_status: "running",
      task_assignee: "w",
      profile: "w",
      worker_pid: 777,
      claim_lock: "h:1",
      claim_expires: t.clock.seconds + 60,
    });
  });

  it("runs.terminate reclaims a live run's task (worker terminated) and 409s an ended run", async () => {
    const { task } = await t.api.tasks.create({ title: "t" });
    const { run_id } = await t.api.tasks.claim({ id: task.id });
    await t.board().recordSpawn(task.id, 2_000_000_010, run_id ?? 0);
    expect(await t.api.runs.terminate({ run_id: run_id ?? 0 })).toEqual({ ok: true, run_id, task_id: task.id });
    expect((await t.board().getTask(task.id))?.status).toBe("ready");
    expect(t.terminated.map((x) => x.pid)).toEqual([2_000_000_010]);
    await expect(t.api.runs.terminate({ run_id: run_id ?? 0 })).rejects.toMatchObject({
      code: "CONFLICT",
      message: `run ${run_id} already ended (reclaimed)`,
    });
    expect(await codeOf(t.api.runs.terminate({ run_id: 424242 }))).toBe("NOT_FOUND");
  });

  it("runs.terminate never reclaims a newer run: a still-open run its task moved on from is 409, the new attempt untouched", async () => {
    const { task } = await t.api.tasks.create({ title: "t" });
    const first = (await t.api.tasks.claim({ id: task.id })).run_id ?? 0;
    await t.api.tasks.reclaim({ id: task.id });
    const second = (await t.api.tasks.claim({ id: task.id, claimer: "w2" })).run_id ?? 0;
    // The window the old two-step read-then-reclaim had: the named run still reads as live while
    // its task already runs a newer attempt (seeded, as no verb leaves a run open past its task).
    await rawSql(t.board()).run("UPDATE task_runs SET ended_at = NULL WHERE id = ?", first);
    await expect(t.api.runs.terminate({ run_id: first })).rejects.toMatchObject({
      code: "CONFLICT",
      message: `run ${first} is not the current run of task ${task.id}; nothing was reclaimed`,
    });
    expect(await t.board().getTask(task.id)).toMatchObject({
      status: "running",
      current_run_id: second,
      claim_lock: "w2",
    });
    expect((await t.board().getRun(second)).ended_at).toBeNull();
  });
});

/** The 400 a board removal gets on PostgreSQL, naming the board and its schema. */
function refusedOnPostgres(slug: string, action: "archived" | "deleted") {
  return {
    code: "BAD_REQUEST",
    message: expect.stringContaining(
      `boards on PostgreSQL cannot be ${action} yet: board '${slug}' is unchanged (its rows stay in schema kanban_${slug};`,
    ),
  };
}

/** The titles of a board view's column, sorted. */
function column(view: { columns: { name: string; tasks: { title: string }[] }[] }, name: string): string[] {
  return (view.columns.find((c) => c.name === name)?.tasks ?? []).map((x) => x.title).sort();
}

describe("boards", () => {
  it("creates (idempotent), lists with counts and is_current, switches, updates and archives", async () => {
    const created = await t.api.boards.create({ slug: "Ops", name: "Operations", switch: true });
    expect(created).toMatchObject({ board: { slug: "ops", name: "Operations" }, current: "ops" });
    expect((await t.api.boards.create({ slug: "ops" })).board.name).toBe("Operations");
    await t.api.tasks.create({ title: "x" }); // lands on the current board: ops
    const list = await t.api.boards.list();
    expect(list.current).toBe("ops");
    expect(list.boards.map((b) => [b.slug, b.is_current, b.total])).toEqual([
      ["default", false, 0],
      ["ops", true, 1],
    ]);
    expect(list.boards[1]?.counts).toEqual({ ready: 1 });
    expect((await t.api.boards.switch({ slug: "default" })).current).toBe("default");
    expect((await t.api.boards.update({ slug: "ops", description: "d", default_workdir: t.dir })).board).toMatchObject({
      description: "d",
      default_workdir: t.dir,
    });
    const { task } = await t.api.tasks.create({ title: "in project", board: "ops", workspace_kind: "dir" });
    expect(task.workspace_path).toBe(t.dir);
    if (testStoreIsPostgres()) {
      // Removal is refused on PostgreSQL (other hosts may still write to the schema): nothing changes.
      await expect(t.api.boards.remove({ slug: "ops" })).rejects.toMatchObject(refusedOnPostgres("ops", "archived"));
      expect(column(await t.api.board.get({ board: "ops" }), "ready")).toEqual(["in project", "x"]);
      return;
    }
    const removed = await t.api.boards.remove({ slug: "ops" });
    expect(removed.result).toMatchObject({ slug: "ops", action: "archived" });
    expect(await codeOf(t.api.board.get({ board: "ops" }))).toBe("NOT_FOUND");
  });

  it("refuses bad input: default removal 400, unknown 404, bad slug 400, relative or missing workdir 400", async () => {
    await expect(t.api.boards.remove({ slug: "default" })).rejects.toMatchObject({
      code: "BAD_REQUEST",
      message: "the 'default' board cannot be removed",
    });
    expect(await codeOf(t.api.boards.remove({ slug: "ghost" }))).toBe("NOT_FOUND");
    expect(await codeOf(t.api.boards.switch({ slug: "ghost" }))).toBe("NOT_FOUND");
    expect(await codeOf(t.api.boards.update({ slug: "ghost", name: "x" }))).toBe("NOT_FOUND");
    expect(await codeOf(t.api.boards.create({ slug: "_bad" }))).toBe("BAD_REQUEST");
    expect(await codeOf(t.api.boards.create({ slug: "ok", default_workdir: "relative/dir" }))).toBe("BAD_REQUEST");
    expect(await codeOf(t.api.boards.create({ slug: "ok", default_workdir: path.join(t.dir, "missing") }))).toBe(
      "BAD_REQUEST",
    );
  });

  it("removing a board ends its live streams (on PostgreSQL: refused, the stream goes on)", async () => {
    await t.api.boards.create({ slug: "gone" });
    const stream = (await t.api.events.subscribe({ board: "gone", after: 0 })) as AsyncIterable<unknown>;
    const seen: unknown[] = [];
    const ended = (async () => {
      for await (const item of stream) seen.push(item);
      return seen.length;
    })();
    await waitFor(() => t.live.size === 1, 10_000, "the board's watcher");
    if (testStoreIsPostgres()) {
      await expect(t.api.boards.remove({ slug: "gone" })).rejects.toMatchObject(refusedOnPostgres("gone", "archived"));
      // The board and its stream are untouched: a write on it still reaches the subscriber.
      const { task } = await t.api.tasks.create({ title: "still here", board: "gone" });
      await waitFor(() => JSON.stringify(seen).includes(task.id), 5000, "the write on the stream");
      expect(t.live.size).toBe(1);
      t.live.close();
      await ended;
      return;
    }
    await t.api.boards.remove({ slug: "gone" });
    expect(await ended).toBe(0);
    expect(t.live.size).toBe(0);
  });

  it("deletes a board for good with delete: true (on PostgreSQL: refused, the board unchanged)", async () => {
    await t.api.boards.create({ slug: "tmp" });
    if (testStoreIsPostgres()) {
      await t.api.tasks.create({ title: "kept", board: "tmp" });
      await expect(t.api.boards.remove({ slug: "tmp", delete: true })).rejects.toMatchObject(
        refusedOnPostgres("tmp", "deleted"),
      );
      expect(column(await t.api.board.get({ board: "tmp" }), "ready")).toEqual(["kept"]);
      expect((await t.api.boards.list()).boards.map((b) => b.slug)).toContain("tmp");
      return;
    }
    expect((await t.api.boards.remove({ slug: "tmp", delete: true })).result.action).toBe("deleted");
    expect(fs.existsSync(path.join(t.dir, "kanban", "boards", "tmp"))).toBe(false);
  });
});

describe("stats, assignees, profiles, config", () => {
  it("stats counts by status and assignee with the oldest ready age", async () => {
    await t.api.tasks.create({ title: "a", assignee: "w" });
    t.clock.advance(40);
    await t.api.tasks.create({ title: "b" });
    expect(await t.api.stats.get()).toEqual({
      by_status: { ready: 2 },
      by_assignee: { w: { ready: 1 } },
      oldest_ready_age_seconds: 40,
      now: t.clock.seconds,
    });
  });

  it("assignees merge configured profiles with the board's assignees", async () => {
    t.writeConfig({ profiles: { coder: { command: ["x"] } } });
    await t.api.tasks.create({ title: "a", assignee: "writer" });
    expect((await t.api.assignees.list()).assignees).toEqual([
      { name: "coder", on_disk: true, counts: {} },
      { name: "writer", on_disk: false, counts: { ready: 1 } },
    ]);
  });

  it("profiles list name, command, skills and model but never env", async () => {
    t.writeConfig({
      profiles: { coder: { command: ["run", "{task_id}"], env: { API_KEY: "sekrit" }, skills: ["tdd"], model: "m" } },
    });
    const r = await t.api.profiles.list();
    expect(r).toEqual({
      profiles: [{ name: "coder", command: ["run", "{task_id}"], skills: ["tdd"], model: "m", description: null }],
    });
    expect(JSON.stringify(r)).not.toContain("sekrit");
  });

  it("a tenant sees profile names, skills and models but not the host's command lines", async () => {
    t.writeConfig({
      profiles: {
        coder: { command: ["/opt/agents/run", "--key-file", "/etc/agent.key"], skills: ["tdd"], model: "m" },
      },
    });
    const r = await t.caller("acme").profiles.list();
    expect(r).toEqual({ profiles: [{ name: "coder", command: null, skills: ["tdd"], model: "m", description: null }] });
    expect(JSON.stringify(r)).not.toContain("/opt/agents");
  });

  it("config returns Hermes' dashboard defaults and reads dashboard.kanban", async () => {
    expect(await t.api.config.get()).toMatchObject({
      default_tenant: null,
      lane_by_profile: true,
      include_archived_by_default: false,
      render_markdown: true,
      failure_limit: 2,
    });
    t.writeConfig({
      dashboard: { kanban: { default_tenant: "acme", lane_by_profile: false } },
      kanban: { failure_limit: 4 },
    });
    expect(await t.api.config.get()).toMatchObject({
      default_tenant: "acme",
      lane_by_profile: false,
      failure_limit: 4,
    });
  });

  it("a malformed config.json is reported by config.get, and the board keeps working on the last valid settings", async () => {
    t.writeConfig({ kanban: { failure_limit: 4 } });
    expect(await t.api.config.get()).toMatchObject({ failure_limit: 4, config_error: null });
    fs.writeFileSync(path.join(t.dir, "config.json"), "{ not json");
    const broken = await t.api.config.get();
    expect(broken.config_error).toMatch(/config\.json/);
    expect(broken.failure_limit).toBe(4);
    const { task } = await t.api.tasks.create({ title: "still works" });
    expect((await t.api.board.get({})).columns.find((c) => c.name === "ready")?.tasks.map((c) => c.id)).toContain(
      task.id,
    );
  });
});

describe("dispatcher", () => {
  it("status reports dead with no lock, alive with a live lock pid; nudge writes the nudge file only when alive", async () => {
    expect(await t.api.dispatcher.status()).toMatchObject({
      alive: false,
      pid: null,
      status: null,
      config_error: null,
    });
    expect(await t.api.dispatcher.nudge()).toEqual({ nudged: false, alive: false });
    fs.mkdirSync(path.dirname(dispatcherLockPath(t.dir)), { recursive: true });
    fs.writeFileSync(dispatcherLockPath(t.dir), String(process.pid));
    writeDispatcherStatus(t.dir, {
      pid: process.pid,
      started_at: 1,
      last_tick_at: 2,
      last_tick_ms: 3,
      interval_seconds: 60,
      ticks: 1,
      boards: [],
      running_workers: [],
      warnings: [],
    });
    const s = await t.api.dispatcher.status();
    expect(s).toMatchObject({ alive: true, pid: process.pid, status: { ticks: 1, alive: true } });
    expect(await t.api.dispatcher.nudge()).toEqual({ nudged: true, alive: true });
    expect(fs.existsSync(dispatcherNudgePath(t.dir))).toBe(true);
  });
});

describe("notify subscriptions", () => {
  it("subscribes (idempotent), lists and unsubscribes; NOT_FOUND for a missing subscription or task", async () => {
    const { task } = await t.api.tasks.create({ title: "t" });
    const key = { task_id: task.id, platform: "telegram", chat_id: "42" };
    const { subscription } = await t.api.notify.subscribe({ ...key, chat_type: "dm", delivery_mode: "notify" });
    expect(subscription).toMatchObject({ ...key, thread_id: "", chat_type: "dm" });
    await t.api.notify.subscribe(key);
    expect((await t.api.notify.list({ task_id: task.id })).subscriptions).toHaveLength(1);
    expect((await t.api.notify.list()).subscriptions).toHaveLength(1);
    expect(await t.api.notify.unsubscribe(key)).toEqual({ ok: true });
    await expect(t.api.notify.unsubscribe(key)).rejects.toMatchObject({
      code: "NOT_FOUND",
      message: "no such subscription",
    });
    expect(await codeOf(t.api.notify.subscribe({ ...key, task_id: "t_nobody" }))).toBe("NOT_FOUND");
    expect(await codeOf(t.api.notify.subscribe({ ...key, delivery_mode: "shout" as "notify" }))).toBe("BAD_REQUEST");
  });
});

describe("diagnostics", () => {
  it("lists diagnostics worst first, filtered at or above a severity and by task", async () => {
    expect(await t.api.diagnostics.list()).toEqual({ diagnostics: [], count: 0 });
    const { task } = await t.api.tasks.create({ title: "w", assignee: "w" });
    await t.api.tasks.claim({ id: task.id });
    await expect(t.api.tasks.complete({ id: task.id, created_cards: ["t_aaaaaaaaaaaa"] })).rejects.toThrow();
    const stranded = (await t.api.tasks.create({ title: "stranded" })).task;
    t.clock.advance(3600);
    const all = await t.api.diagnostics.list();
    expect(all.diagnostics.map((d) => d.task_id)).toEqual([task.id, stranded.id]);
    expect((await t.api.diagnostics.list({ severity: "error" })).diagnostics.map((d) => d.task_id)).toEqual([task.id]);
    expect((await t.api.diagnostics.list({ task_id: stranded.id })).count).toBe(1);
    expect(await codeOf(t.api.diagnostics.list({ severity: "fatal" as "error" }))).toBe("BAD_REQUEST");
  });
});

describe("events", () => {
  it("lists events after a cursor with task, kind and tenant filters", async () => {
    const a = (await t.api.tasks.create({ title: "a", tenant: "acme" })).task;
    const b = (await t.api.tasks.create({ title: "b" })).task;
    await t.api.comments.add({ task_id: b.id, body: "x" });
    const all = await t.api.events.list();
    expect(all.events.map((e) => [e.task_id, e.kind])).toEqual([
      [a.id, "created"],
      [b.id, "created"],
      [b.id, "commented"],
    ]);
    expect(all.cursor).toBe(all.events.at(-1)?.id);
    const after = await t.api.events.list({ after: all.events[0]?.id });
    expect(after.events).toHaveLength(2);
    expect((await t.api.events.list({ kinds: ["commented"] })).events.map((e) => e.kind)).toEqual(["commented"]);
    expect((await t.api.events.list({ tenant: "acme" })).events.map((e) => e.task_id)).toEqual([a.id]);
    expect((await t.api.events.list({ task_id: b.id, limit: 1 })).events.map((e) => e.kind)).toEqual(["created"]);
    expect((await t.api.events.list({ after: all.cursor })).cursor).toBe(all.cursor);
    expect(await codeOf(t.api.events.list({ limit: 201 }))).toBe("BAD_REQUEST");
    expect(await codeOf(t.api.events.list({ after: -1 }))).toBe("BAD_REQUEST");
  });

  it("subscribe (in process) replays after a cursor, then streams live writes; lastEventId wins over after", async () => {
    const a = (await t.api.tasks.create({ title: "a" })).task;
    const first = await t.board().latestEventId();
    await t.api.comments.add({ task_id: a.id, body: "before" });
    const stream = await t.api.events.subscribe({ after: 0, lastEventId: String(first) });
    const seen: { id: number; kind: string }[] = [];
    const done = (async () => {
      for await (const item of stream) {
        // In process the caller yields the server's tracked envelope itself: [id, event].
        const [trackedId, ev] = item as unknown as [string, { id: number; kind: string }];
        expect(trackedId).toBe(String(ev.id));
        seen.push({ id: ev.id, kind: ev.kind });
        if (seen.length === 2) break;
      }
    })();
    // The backlog event proves the subscription is registered; the next write must arrive live.
    await waitFor(() => seen.length === 1);
    await t.api.tasks.block({ id: a.id });
    await done;
    expect(t.live.size).toBe(0); // leaving the loop ended the stream and released the watcher
    expect(seen.map((e) => e.kind)).toEqual(["commented", "blocked"]);
    expect(seen[0]?.id).toBeGreaterThan(first);
    expect(
      await codeOf(
        t.api.events.subscribe({ lastEventId: "x1" }).then(async (s) => {
          for await (const _ of s) break;
        }),
      ),
    ).toBe("BAD_REQUEST");
  });
});
