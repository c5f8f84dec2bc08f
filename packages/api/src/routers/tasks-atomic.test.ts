import fs from "node:fs";
import path from "node:path";
import { redactSecrets } from "@kanban/contract";
import { logsDir, workspacesRoot } from "@kanban/db";
import { rawSql } from "@kanban/kernel/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createTestApi, type TestApi } from "../testing.ts";

let t: TestApi;
beforeEach(() => {
  t = createTestApi();
});
afterEach(() => t.cleanup());

/** Everything a refused request must leave exactly as it was: the row, its events and its runs. */
async function snapshot(id: string) {
  const sql = rawSql(t.board());
  return {
    task: await sql.get("SELECT * FROM tasks WHERE id = ?", id),
    events: await sql.all("SELECT kind, payload FROM task_events WHERE task_id = ? ORDER BY id", id),
    runs: await sql.all("SELECT * FROM task_runs WHERE task_id = ? ORDER BY id", id),
  };
}
type Snapshot = Awaited<ReturnType<typeof snapshot>>;

/**
 * What a refused claim leaves (tasks.claim makes the workspace between its claim and a second
 * transaction, never with the board write-locked): the row as it was (ready, unclaimed, the same
 * failure count), the claim given back (a `claimed` then a `reclaimed` event, its run closed as
 * `reclaimed`) and no failure booked.
 */
async function expectGivenBack(id: string, before: Snapshot) {
  const now = await snapshot(id);
  // `started_at` says a claim happened (as after any given-back attempt); every other column is as it was.
  expect({ ...(now.task as object), started_at: null }).toEqual({ ...(before.task as object), started_at: null });
  expect(now.events.slice(before.events.length).map((e) => (e as { kind: string }).kind)).toEqual([
    "claimed",
    "reclaimed",
  ]);
  expect(now.runs.slice(before.runs.length)).toMatchObject([{ outcome: "reclaimed" }]);
}

describe("tasks.claim: claim and workspace succeed or fail together", () => {
  it("a dir: workspace that cannot be created is a 409 and gives the claim back: ready, unclaimed, no failure counted", async () => {
    const blocker = path.join(t.dir, "a-file");
    const { task } = await t.api.tasks.create({ title: "w", workspace: `dir:${path.join(blocker, "work")}` });
    // A regular file where the directory's parent should be: mkdir fails with ENOTDIR.
    fs.writeFileSync(blocker, "not a directory");
    const before = await snapshot(task.id);
    await expect(t.api.tasks.claim({ id: task.id })).rejects.toMatchObject({
      code: "CONFLICT",
      message: `cannot claim ${task.id}: its dir workspace cannot be created at ${path.join(blocker, "work")} (ENOTDIR)`,
    });
    await expectGivenBack(task.id, before);
    expect(await t.board().requireTask(task.id)).toMatchObject({
      status: "ready",
      claim_lock: null,
      current_run_id: null,
    });
    // Once the path is creatable the same task claims normally.
    fs.rmSync(blocker);
    const r = await t.api.tasks.claim({ id: task.id });
    expect(r.workspace).toBe(path.join(blocker, "work"));
    expect(fs.statSync(r.workspace as string).isDirectory()).toBe(true);
  });

  it("a scratch path recorded on the row (Hermes, an old version, a hand edit) is ignored: the claim makes <root>/<id>", async () => {
    const { task: other } = await t.api.tasks.create({ title: "other" });
    const othersDir = path.join(workspacesRoot(t.location, "default"), other.id);
    fs.mkdirSync(othersDir, { recursive: true });
    const { task } = await t.api.tasks.create({ title: "w" });
    await rawSql(t.board()).run("UPDATE tasks SET workspace_path = ? WHERE id = ?", othersDir, task.id);
    const r = await t.api.tasks.claim({ id: task.id });
    expect(r.workspace).toBe(path.join(workspacesRoot(t.location, "default"), task.id));
    expect((await t.board().requireTask(task.id)).workspace_path).toBe(r.workspace);
  });

  it("an uncreatable scratch root refuses the claim, and a tenant is not told the server's path", async () => {
    const root = workspacesRoot(t.location, "default");
    fs.mkdirSync(path.dirname(root), { recursive: true });
    fs.writeFileSync(root, "not a directory");
    const acme = t.caller("acme");
    const { task } = await acme.tasks.create({ title: "s" });
    const before = await snapshot(task.id);
    const refused = acme.tasks.claim({ id: task.id });
    await expect(refused).rejects.toMatchObject({ code: "CONFLICT" });
    const message = await refused.catch((e: Error) => e.message);
    expect(message).toMatch(
      new RegExp(`^cannot claim ${task.id}: its scratch workspace cannot be created \\((ENOTDIR|EEXIST)\\)$`),
    );
    expect(message).not.toContain(t.dir);
    await expectGivenBack(task.id, before);
    // The operator is told where.
    await expect(t.api.tasks.claim({ id: task.id })).rejects.toMatchObject({ message: expect.stringContaining(root) });
  });
});

describe("tasks.bulk: each row is atomic", () => {
  it("a row refused at its status step keeps none of its earlier changes; other rows still apply", async () => {
    const a = (await t.api.tasks.create({ title: "a", assignee: "alice" })).task;
    const b = (await t.api.tasks.create({ title: "b", assignee: "alice" })).task;
    await t.api.tasks.claim({ id: b.id });
    // a: the reassignment goes through, then the kernel refuses the status: the row must undo both.
    const beforeA = await snapshot(a.id);
    const { results } = await t.api.tasks.bulk({ ids: [a.id], assignee: "bob", status: "bogus", priority: 9 });
    expect(results).toEqual([
      { id: a.id, ok: false, error: expect.stringMatching(/^transition to 'bogus' refused: /) },
    ]);
    expect(await snapshot(a.id)).toEqual(beforeA);
    expect((await t.board().requireTask(a.id)).assignee).toBe("alice");

    // b is running: reclaim_first releases the claim, then the status step fails; the claim stays
    // and its worker is not stopped.
    const beforeB = await snapshot(b.id);
    const mixed = await t.api.tasks.bulk({
      ids: [b.id, a.id],
      assignee: "carol",
      reclaim_first: true,
      status: "bogus",
    });
    expect(mixed.results.map((r) => r.ok)).toEqual([false, false]);
    expect(await snapshot(b.id)).toEqual(beforeB);
    expect(await t.board().requireTask(b.id)).toMatchObject({ status: "running", assignee: "alice" });
    expect(t.terminated).toEqual([]);

    // The same rows with a valid status commit every step.
    const ok = await t.api.tasks.bulk({
      ids: [a.id],
      assignee: "bob",
      status: "blocked",
      block_reason: "wait",
      priority: 9,
    });
    expect(ok.results).toEqual([{ id: a.id, ok: true }]);
    expect(await t.board().requireTask(a.id)).toMatchObject({ assignee: "bob", status: "blocked", priority: 9 });
  });

  it("a row whose reassignment is refused (still running) changes nothing", async () => {
    const a = (await t.api.tasks.create({ title: "a", assignee: "alice" })).task;
    await t.api.tasks.claim({ id: a.id });
    const before = await snapshot(a.id);
    const { results } = await t.api.tasks.bulk({ ids: [a.id], assignee: "bob", priority: 5 });
    expect(results[0]).toMatchObject({
      ok: false,
      error: "assign refused: still running (pass reclaim_first to release the claim first)",
    });
    expect(await snapshot(a.id)).toEqual(before);
  });
});

describe("tasks.log: server paths are the operator's", () => {
  it("gives a tenant the log's file name only, an admin its full path", async () => {
    const acme = t.caller("acme");
    const { task } = await acme.tasks.create({ title: "t" });
    const file = path.join(logsDir(t.location, "default"), `${task.id}.log`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, "hello\n");
    const seen = await acme.tasks.log({ id: task.id });
    expect(seen).toMatchObject({ path: `${task.id}.log`, exists: true, content: "hello\n" });
    expect(JSON.stringify(seen)).not.toContain(t.dir);
    expect((await t.api.tasks.log({ id: task.id })).path).toBe(file);
  });
});

describe("tasks.log: credentials a worker printed are cut", () => {
  it("serves the log with run tokens, provider keys, config.json's tokens and profile secrets redacted; the file keeps them", async () => {
    const tenantToken = "tenant-token-for-acme-0123456789";
    const profileSecret = "plain-words-from-the-profile";
    const x = createTestApi({
      config: {
        tenant_tokens: { [tenantToken]: "acme" },
        profiles: { coder: { command: ["true"], env: { WEBHOOK_SECRET: profileSecret } } },
      },
    });
    try {
      const { task } = await x.api.tasks.create({ title: "leaky" });
      const file = path.join(logsDir(x.location, "default"), `${task.id}.log`);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const raw = [
        "starting",
        "KANBAN_TOKEN=kbr1.eyJiIjoiZCJ9.c2lnbmF0dXJlLWhlcmU",
        "calling with sk-ant-api03-0123456789abcdefghij",
        `tried the token ${tenantToken} and ${profileSecret}`,
        "done",
        "",
      ].join("\n");
      fs.writeFileSync(file, raw);
      const seen = await x.api.tasks.log({ id: task.id });
      expect(seen.content).toBe(
        [
          "starting",
          "KANBAN_TOKEN=[redacted]",
          "calling with [redacted]",
          "tried the token [redacted] and [redacted]",
          "done",
          "",
        ].join("\n"),
      );
      expect(seen.size_bytes).toBe(Buffer.byteLength(raw));
      expect(fs.readFileSync(file, "utf8")).toBe(raw);
    } finally {
      await x.cleanup();
    }
  });

  it("never splits a secret at a page's cut: paged back in small pages, or with chosen offsets, no piece of one shows", async () => {
    const tenantToken = "tenant-token-for-acme-0123456789";
    const x = createTestApi({ config: { tenant_tokens: { [tenantToken]: "acme" } } });
    try {
      const { task } = await x.api.tasks.create({ title: "leaky" });
      const file = path.join(logsDir(x.location, "default"), `${task.id}.log`);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const providerKey = "sk-ant-api03-ZYXWVUTSRQPONMLKJIHG";
      const runToken = "kbr1.eyJiIjoiZCJ9.c2lnbmF0dXJlLWhlcmU";
      const pemBody = [
        "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC",
        "BKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj",
        "MzEfYyjiWA4R4/M2bS1GB4t7NXp98C3S",
      ];
      const pem = ["-----BEGIN PRIVATE KEY-----", ...pemBody, "-----END PRIVATE KEY-----"].join("\n");
      // One long line (no newline to cut at) holding three secrets, then a PEM key over several lines.
      const filler = "x".repeat(37);
      const line = [filler, providerKey, filler, tenantToken, filler, runToken, filler].join(" ").repeat(6);
      const raw = `${line}\n${pem}\nafter the key\n`;
      fs.writeFileSync(file, raw);
      const secrets = [providerKey, tenantToken, runToken, ...pemBody];
      // Any 8 characters of a secret in a page would be a piece of it.
      const pieces = secrets.flatMap((s) => Array.from({ length: s.length - 7 }, (_, i) => s.slice(i, i + 8)));
      const leaks = (content: string) => pieces.filter((p) => content.includes(p));

      // The drawer's walk: each page ends where the one after it starts.
      for (const tail of [9, 23, 61]) {
        const pages: string[] = [];
        let page = await x.api.tasks.log({ id: task.id, tail });
        pages.unshift(page.content);
        while (page.truncated) {
          page = await x.api.tasks.log({ id: task.id, tail, before: page.start });
          pages.unshift(page.content);
        }
        for (const p of pages) expect(leaks(p), `tail ${tail}`).toEqual([]);
        // Joined, the pages are the whole log redacted: no secret was split between two of them.
        expect(pages.join(""), `tail ${tail}`).toBe(redactSecrets(raw, [tenantToken]));
      }
      // A reader choosing its own offsets: every end inside the first secrets, short pages.
      for (let before = 1; before < 400; before += 3) {
        const page = await x.api.tasks.log({ id: task.id, tail: 5, before });
        expect(leaks(page.content), `before ${before}`).toEqual([]);
      }
      // A page that starts on a line inside the PEM block starts at the block's first line.
      const inKey = Buffer.byteLength(`${line}\n${pem.split("\n").slice(0, 3).join("\n")}\n`);
      const page = await x.api.tasks.log({ id: task.id, tail: Buffer.byteLength(raw) - inKey + 1 });
      expect(page.start).toBe(Buffer.byteLength(`${line}\n`));
      expect(page.content).toBe(redactSecrets(`${pem}\nafter the key\n`));
    } finally {
      await x.cleanup();
    }
  });

  it("a PEM key longer than the margin a cut looks back over shows no line of it in any page", async () => {
    const x = createTestApi();
    try {
      const { task } = await x.api.tasks.create({ title: "long key" });
      const file = path.join(logsDir(x.location, "default"), `${task.id}.log`);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      // 24 KiB of base64 lines: a page far enough into it has the BEGIN line beyond its margin.
      const body = Array.from({ length: 384 }, (_, i) =>
        Buffer.from(`line ${i} of a key that should never be shown ${"k".repeat(20)}`)
          .toString("base64")
          .slice(0, 64),
      );
      const raw = `before\n-----BEGIN PRIVATE KEY-----\n${body.join("\n")}\n-----END PRIVATE KEY-----\nafter the key\n`;
      fs.writeFileSync(file, raw);
      const pieces = new Set(body.flatMap((l) => Array.from({ length: l.length - 11 }, (_, i) => l.slice(i, i + 12))));
      const leaks = (content: string) =>
        Array.from({ length: Math.max(0, content.length - 11) }, (_, i) => content.slice(i, i + 12)).filter((w) =>
          pieces.has(w),
        );
      let page = await x.api.tasks.log({ id: task.id, tail: 2048 });
      let pages = 1;
      expect(leaks(page.content)).toEqual([]);
      while (page.truncated) {
        page = await x.api.tasks.log({ id: task.id, tail: 2048, before: page.start });
        expect(leaks(page.content), `the page from ${page.start}`).toEqual([]);
        pages++;
      }
      expect(pages).toBeGreaterThan(1);
      expect((await x.api.tasks.log({ id: task.id })).content).toBe(redactSecrets(raw));
    } finally {
      await x.cleanup();
    }
  });
});
