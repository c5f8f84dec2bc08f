import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KanbanClient } from "./client.ts";
import { apiClient, createdId, runBinary, startBinary, type TempHome, tempHome } from "./testing/harness.ts";

/**
 * The real `kanban` executable (node bin/kanban.mjs), one process per command, at least one per
 * verb group: locally on a temporary KANBAN_HOME, then remotely against a real `kanban serve`
 * process on an ephemeral port. Breadth lives in verbs.test.ts (same code, in-process).
 */
function expectCleanFailure(r: { err: string }, text: string) {
  const lines = r.err.split("\n").filter((l) => l !== "");
  expect(lines).toEqual([expect.stringContaining(text)]);
  expect(lines[0]).toMatch(/^kanban: /);
  expect(r.err).not.toMatch(/\n\s+at |Error:/);
}

describe("kanban binary, local boards", () => {
  let h: TempHome;
  let api: KanbanClient;
  beforeAll(async () => {
    h = tempHome();
    api = await apiClient(h.env);
  });
  afterAll(() => h.cleanup());

  it("help (exit 0); bad usage (exit 2)", async () => {
    const help = await runBinary(["--help"], h.env);
    expect(help.code).toBe(0);
    expect(help.out).toContain("Usage: kanban [--board <slug>] <command> [options]");
    const bad = await runBinary(["list", "--bogus"], h.env);
    expect(bad.code).toBe(2);
    expectCleanFailure(bad, "kanban: unknown option '--bogus'");
  });

  it("task verbs: create, show --json, and an unknown id (exit 1, one line)", async () => {
    // A body big enough that `show --json` exceeds a pipe's 64 KiB: the output must still arrive whole.
    const body = "details ".repeat(12_500);
    const created = await runBinary(["create", "Ship it", "--assignee", "coder", "--body", body], h.env);
    expect(created.code).toBe(0);
    expect(created.out).toMatch(/^Created t_[0-9a-f]+ {2}\(ready, assignee=coder\)$/);
    expect(created.err).toMatch(/^⚠ no dispatcher is running/);
    const id = createdId(created.out);
    const show = await runBinary(["show", id, "--json"], h.env);
    expect(show.out.length).toBeGreaterThan(100_000);
    expect(JSON.parse(show.out)).toMatchObject({ task: { id, title: "Ship it", body }, parents: [], children: [] });
    const missing = await runBinary(["show", "t_0000dead"], h.env);
    expect(missing.code).toBe(1);
    expectCleanFailure(missing, "kanban: no such task: t_0000dead");
  });

  it("lifecycle verbs: a phantom --created-card refuses the completion (exit 1), the task stays running", async () => {
    const { task } = await api.tasks.create.mutate({ title: "worker job", assignee: "coder" });
    const claimed = await api.tasks.claim.mutate({ id: task.id });
    const worker = {
      ...h.env,
      KANBAN_TASK: task.id,
      KANBAN_RUN_ID: String(claimed.run_id),
      KANBAN_CLAIM_LOCK: claimed.task.claim_lock ?? "",
    };
    const phantom = await runBinary(["complete", task.id, "--summary", "done", "--created-card", "t_feedface"], worker);
    expect(phantom.code).toBe(1);
    expectCleanFailure(phantom, "t_feedface");
    expect((await api.tasks.get.query({ id: task.id })).task.status).toBe("running");
  });

  it("boards, board info and notify verbs", async () => {
    await api.boards.create.mutate({ slug: "ops", name: "Ops" });
    const boards = await runBinary(["boards", "list", "--json"], h.env);
    expect((JSON.parse(boards.out) as { slug: string }[]).map((b) => b.slug)).toEqual(["default", "ops"]);
    const unknown = await runBinary(["--board", "nowhere", "stats"], h.env);
    expect(unknown.code).toBe(1);
    expectCleanFailure(
      unknown,
      "kanban: board 'nowhere' does not exist. Create it with `kanban boards create nowhere`.",
    );
    const { task } = await api.tasks.create.mutate({ title: "notify me" });
    const sub = await runBinary(["notify-subscribe", task.id, "--platform", "slack", "--chat-id", "C1"], h.env);
    expect(sub.out).toBe(`Subscribed slack:C1 to ${task.id}`);
  });

  it("dispatch runs the dispatcher's one-shot tick and passes its flags and exit code through", async () => {
    const dry = await runBinary(["dispatch", "--dry-run", "--json", "--max", "2"], h.env);
    expect(dry.code, dry.err).toBe(0);
    expect(Object.keys(JSON.parse(dry.out) as object)).toEqual(
      expect.arrayContaining(["reclaimed", "promoted", "spawned", "skipped_nonspawnable"]),
    );
    const missing = await runBinary(["--board", "nope", "dispatch"], h.env);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain("board 'nope' does not exist");
  });

  it("dispatcher runs the loop until SIGTERM, then exits 0", async () => {
    const proc = startBinary(["dispatcher"], { ...h.env, KANBAN_DISPATCH_INTERVAL: "0.2" });
    try {
      const status = path.join(h.home, "kanban", "dispatcher.json");
      const deadline = Date.now() + 15_000;
      while (!fs.existsSync(status)) {
        if (Date.now() > deadline) throw new Error(`dispatcher never ticked: ${proc.stderr()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      proc.child.kill("SIGTERM");
      expect(await proc.exited).toEqual({ code: 0, signal: null });
      expect(proc.stderr()).toContain("kanban-dispatcher: stopped");
    } finally {
      proc.kill();
    }
  });

  it("tail follows a task live and stops on Ctrl-C with (stopped), exit 0", async () => {
    const { task } = await api.tasks.create.mutate({ title: "tailed" });
    const proc = startBinary(["tail", task.id], h.env);
    try {
      // 30 s: under CI's load a local verb's start has taken 14 s (create+show in the same run).
      await proc.waitFor(new RegExp(`Tailing events for ${task.id}\\. Ctrl-C to stop\\.`), 30_000);
      // The stream starts at "now"; comment until one arrives.
      for (let i = 0; !/commented/.test(proc.stdout()); i++) {
        if (i > 200) throw new Error(`no event: ${proc.stdout()} ${proc.stderr()}`);
        await api.comments.add.mutate({ task_id: task.id, body: `ping ${i}`, author: "t" });
        await new Promise((r) => setTimeout(r, 50));
      }
      proc.child.kill("SIGINT");
      expect(await proc.exited).toEqual({ code: 0, signal: null });
      expect(proc.stdout().trimEnd().split("\n").at(-1)).toBe("(stopped)");
    } finally {
      proc.kill();
    }
  });
});

describe("kanban binary, remote against `kanban serve`", () => {
  let server: TempHome;
  let client: TempHome;
  let serve: ReturnType<typeof startBinary>;
  let url: string;
  let remote: Record<string, string>;
  let api: KanbanClient;

  beforeAll(async () => {
    server = tempHome();
    client = tempHome();
    serve = startBinary(["serve", "--port", "0"], { ...server.env, KANBAN_TOKEN: "tok" });
    const m = await serve.waitFor(
      /Serving the kanban API at (http:\/\/127\.0\.0\.1:\d+)\/trpc \(bearer token required\)/,
    );
    url = m[1] ?? "";
    // The client's KANBAN_HOME is empty and stays so: everything goes over HTTP.
    remote = { ...client.env, KANBAN_URL: url, KANBAN_TOKEN: "tok" };
    api = await apiClient(remote);
  });
  afterAll(() => {
    serve.kill();
    server.cleanup();
    client.cleanup();
  });

  it("prints the URL, and serves create/list/show with the same text, JSON and exit codes", async () => {
    // The hint is the second line of output: it may arrive in a later chunk than the URL.
    await serve.waitFor(/Clients: KANBAN_URL=/);
    expect(serve.stdout()).toContain(`Clients: KANBAN_URL=${url} KANBAN_TOKEN=… kanban …`);
    const created = await runBinary(["create", "Remote task", "--assignee", "coder"], remote);
    expect(created.code, created.err).toBe(0);
    const id = createdId(created.out);
    const list = await runBinary(["list"], remote);
    expect(list.out).toBe(`▶ ${id}  ready     coder                 Remote task`);
    const missing = await runBinary(["show", "t_0000dead"], remote);
    expect(missing.code).toBe(1);
    expectCleanFailure(missing, "kanban: no such task: t_0000dead");
    const badId = await runBinary(["show", "bad id!"], remote);
    expect(badId.code).toBe(2);
    expect(fs.readdirSync(client.home)).toEqual([]);
    expect(fs.existsSync(path.join(server.home, "kanban.db"))).toBe(true);
    const noToken = await runBinary(["list"], { ...remote, KANBAN_TOKEN: "" });
    expect(noToken.code).toBe(1);
    expectCleanFailure(noToken, "missing bearer token");
  });

  it("refuses a reclaimed worker's completion over HTTP", async () => {
    const { task } = await api.tasks.create.mutate({ title: "remote worker", assignee: "coder" });
    const claimed = await api.tasks.claim.mutate({ id: task.id });
    await api.tasks.reclaim.mutate({ id: task.id });
    const stale = await runBinary(["complete", task.id, "--summary", "late"], {
      ...remote,
      KANBAN_TASK: task.id,
      KANBAN_RUN_ID: String(claimed.run_id),
    });
    expect(stale.code).toBe(1);
    expectCleanFailure(stale, "no longer the active run");
  });

  it("watch follows the board over SSE and stops on Ctrl-C", async () => {
    const { task } = await api.tasks.create.mutate({ title: "watched", assignee: "coder" });
    const proc = startBinary(["watch", "--kinds", "commented"], remote);
    try {
      await proc.waitFor(/Watching board events\. Ctrl-C to stop\./);
      for (let i = 0; !/commented/.test(proc.stdout()); i++) {
        if (i > 200) throw new Error(`no event: ${proc.stdout()} ${proc.stderr()}`);
        await api.comments.add.mutate({ task_id: task.id, body: `ping ${i}`, author: "t" });
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(proc.stdout()).toMatch(new RegExp(`\\] ${task.id} commented +\\(@coder\\)`));
      proc.child.kill("SIGINT");
      expect(await proc.exited).toEqual({ code: 0, signal: null });
      expect(proc.stdout().trimEnd().split("\n").at(-1)).toBe("(stopped)");
    } finally {
      proc.kill();
    }
  });

  it("serve stops on SIGTERM with (stopped), exit 0", async () => {
    const home = tempHome();
    const other = startBinary(["serve", "--port", "0"], home.env);
    try {
      await other.waitFor(/Serving the kanban API at http:\/\/127\.0\.0\.1:\d+\/trpc \(no token: loopback only\)/);
      other.child.kill("SIGTERM");
      expect(await other.exited).toEqual({ code: 0, signal: null });
      expect(other.stdout()).toContain("(stopped)");
      const refused = await runBinary(["serve", "--host", "0.0.0.0", "--port", "0"], home.env);
      expect(refused.code).toBe(1);
      expectCleanFailure(refused, "refusing to listen on 0.0.0.0 without a token");
    } finally {
      other.kill();
      home.cleanup();
    }
  });
});
