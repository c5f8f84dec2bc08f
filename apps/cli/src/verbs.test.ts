import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { type RunningServer, silentLogger, startServer } from "@kanban/api";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { formatTime, TASK_DICT_KEYS } from "./output.ts";
import { apiClient, cli, cliJson, createdId, type TempHome, tempHome } from "./testing/harness.ts";

/**
 * Every verb through `runCli` in this process, on a real temporary KANBAN_HOME: text output,
 * `--json` shapes and exit codes, including the error paths; each scenario twice, once on the
 * local boards (in-process API) and once over HTTP/SSE against a real API server on an ephemeral
 * port. (binary.test.ts runs the real executable per verb group, locally and against `kanban serve`.)
 */
let h: TempHome;
let server: RunningServer | null = null;

async function setUp(mode: "local" | "remote") {
  h = tempHome();
  if (mode === "remote") {
    server = await startServer({ host: "127.0.0.1", port: 0, location: { home: h.home }, logger: silentLogger });
    h.env.KANBAN_URL = server.url;
  }
}

async function tearDown() {
  await server?.close();
  server = null;
  h.cleanup();
}

async function create(title: string, ...flags: string[]): Promise<string> {
  const r = await cli(["create", title, ...flags], h.env);
  expect(r.code, r.err).toBe(0);
  return createdId(r.out);
}

/** A claimed (running) task and the worker environment the dispatcher would give its worker. */
async function runningTask(title = "work", assignee = "coder") {
  const id = await create(title, "--assignee", assignee);
  const api = await apiClient(h.env);
  const claimed = await api.tasks.claim.mutate({ id });
  const workerEnv = {
    ...h.env,
    KANBAN_TASK: id,
    KANBAN_RUN_ID: String(claimed.run_id),
    KANBAN_CLAIM_LOCK: claimed.task.claim_lock ?? "",
    KANBAN_PROFILE: assignee,
  };
  return { id, runId: claimed.run_id, api, workerEnv };
}

function expectOneErrorLine(err: string, text: string | RegExp) {
  const lines = err.split("\n").filter((l) => l !== "");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^kanban: /);
  if (typeof text === "string") expect(lines[0]).toContain(text);
  else expect(lines[0]).toMatch(text);
  expect(err).not.toMatch(/\n\s+at /);
}

describe.each(["local", "remote"] as const)("%s mode", (mode) => {
  beforeEach(() => setUp(mode));
  afterEach(() => tearDown());

  describe("usage", () => {
    it("prints help for no arguments and --help (exit 0), and for a verb's --help", async () => {
      const bare = await cli([], h.env);
      expect(bare.code).toBe(0);
      expect(bare.out).toContain("Usage: kanban [--board <slug>] <command> [options]");
      const help = await cli(["--help"], h.env);
      expect(help.code).toBe(0);
      expect(help.out).toContain("notify-subscribe");
      const verb = await cli(["create", "--help"], h.env);
      expect(verb.code).toBe(0);
      expect(verb.out).toContain("--initial-status <status>");
    });

    it("exits 2 with one line for unknown verbs, unknown flags, missing and excess arguments", async () => {
      for (const argv of [["frobnicate"], ["list", "--bogus"], ["show"], ["assign", "t_1"], ["show", "a", "b"]]) {
        const r = await cli(argv, h.env);
        expect(r.code, argv.join(" ")).toBe(2);
        expectOneErrorLine(r.err, /kanban: /);
      }
    });

    it("prints bash and zsh completion scripts that know the verbs", async () => {
      const bash = await cli(["completion", "bash"], h.env);
      expect(bash.code).toBe(0);
      expect(bash.out).toContain("complete -o default -F _kanban kanban");
      expect(bash.out).toMatch(/boards:list\|boards:ls\) words="--json --all --help"/);
      const zsh = await cli(["completion", "zsh"], h.env);
      expect(zsh.out).toContain("#compdef kanban");
      expect((await cli(["completion", "fish"], h.env)).code).toBe(2);
    });

    it("reports a malformed environment once, as a failure", async () => {
      const r = await cli(["list"], { ...h.env, KANBAN_RUN_ID: "abc" });
      expect(r.code).toBe(1);
      expectOneErrorLine(r.err, "kanban: invalid environment: KANBAN_RUN_ID: must be a positive integer");
    });
  });

  describe("create", () => {
    it("prints the new id, status and assignee, and warns on stderr when nothing will dispatch it", async () => {
      const r = await cli(["create", "Write the docs", "--assignee", "writer"], h.env);
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/^Created t_[0-9a-f]+ {2}\(ready, assignee=writer\)$/);
      expect(r.err).toMatch(/^⚠ no dispatcher is running/);
      const todo = await cli(["create", "Later", "--parent", createdId(r.out)], h.env);
      expect(todo.out).toMatch(/\(todo, assignee=-\)$/);
      expect(todo.err).toBe("");
    });

    it("maps every flag onto the task and prints Hermes' task dict with --json (no warning)", async () => {
      const parent = await create("parent");
      const r = await cli(
        [
          "create",
          "Export",
          "--body",
          "the body",
          "--assignee",
          "coder",
          "--parent",
          parent,
          "--workspace",
          `dir:${h.home}`,
          "--tenant",
          "acme",
          "--priority",
          "5",
          "--idempotency-key",
          "k1",
          "--max-runtime",
          "2h",
          "--created-by",
          "planner",
          "--skill",
          "git",
          "--skill",
          "node",
          "--max-retries",
          "3",
          "--model",
          "gpt-x",
          "--json",
        ],
        h.env,
      );
      expect(r.code, r.err).toBe(0);
      expect(r.err).toBe("");
      const task = JSON.parse(r.out) as Record<string, unknown>;
      expect(Object.keys(task)).toEqual([...TASK_DICT_KEYS]);
      expect(task).toMatchObject({
        title: "Export",
        body: "the body",
        assignee: "coder",
        status: "todo",
        priority: 5,
        tenant: "acme",
        workspace_kind: "dir",
        workspace_path: h.home,
        created_by: "planner",
        skills: ["git", "node"],
        max_runtime_seconds: 7200,
        max_retries: 3,
        model_override: "gpt-x",
      });
      // The idempotency key returns the first task.
      const again = await cliJson<{ id: string }>(["create", "Export", "--idempotency-key", "k1"], h.env);
      expect(again.id).toBe(task.id);
    });

    it("creates blocked or running tasks with --initial-status, and worktree tasks with a branch", async () => {
      expect((await cliJson(["create", "ask", "--initial-status", "blocked"], h.env)).status).toBe("blocked");
      const wt = await cliJson(["create", "wt", "--workspace", "worktree", "--branch", "feat/x"], h.env);
      expect(wt).toMatchObject({ workspace_kind: "worktree", branch_name: "feat/x" });
    });

    it("attributes a worker's cards to its profile and defaults the tenant from KANBAN_TENANT", async () => {
      const t = await cliJson(["create", "follow-up"], {
        ...h.env,
        KANBAN_TASK: "t_parent",
        KANBAN_PROFILE: "coder",
        KANBAN_TENANT: "acme",
      });
      expect(t).toMatchObject({ created_by: "coder", tenant: "acme" });
    });

    it.each([
      [["--max-runtime", "5x"], "--max-runtime"],
      [["--max-retries", "0"], "--max-retries"],
      [["--priority", "high"], "--priority"],
      [["--workspace", "dir:"], "--workspace"],
      [["--workspace", "cloud"], "--workspace"],
      [["--workspace", "scratch", "--branch", "b"], "--branch only applies"],
      [["--workspace", "worktree", "--branch", "-x"], "--branch"],
      [["--initial-status", "done"], "--initial-status"],
    ])("refuses %j with exit 2", async (flags, text) => {
      const r = await cli(["create", "t", ...flags], h.env);
      expect(r.code).toBe(2);
      expectOneErrorLine(r.err, text);
    });

    it("fails (exit 1) on an unknown parent, with the kernel's message", async () => {
      const r = await cli(["create", "t", "--parent", "t_missing"], h.env);
      expect(r.code).toBe(1);
      expectOneErrorLine(r.err, "t_missing");
    });
  });

  describe("list", () => {
    it("prints one line per task with icon, padded status and assignee, tenant, title", async () => {
      expect((await cli(["list"], h.env)).out).toBe("(no matching tasks)");
      const a = await create("Alpha", "--assignee", "coder", "--tenant", "acme");
      const b = await create("Beta", "--parent", a);
      const r = await cli(["ls"], h.env);
      expect(r.code).toBe(0);
      expect(r.out.split("\n")).toEqual([
        `▶ ${a}  ready     coder                [acme]  Alpha`,
        // A child inherits its parent's tenant.
        `◻ ${b}  todo      (unassigned)         [acme]  Beta`,
      ]);
      const c = await create("Gamma");
      expect((await cli(["ls"], h.env)).out.split("\n")).toContain(`▶ ${c}  ready     (unassigned)          Gamma`);
      expect((await cli(["ls"], h.env)).out.split("\n")).toEqual([
        expect.stringContaining("Alpha"),
        expect.stringContaining("Beta"),
        expect.stringContaining("Gamma"),
      ]);
    });

    it("filters by status, assignee, tenant and --mine, sorts, and includes archived only when asked", async () => {
      const a = await create("A", "--assignee", "coder", "--priority", "1");
      const b = await create("B", "--assignee", "writer", "--tenant", "acme", "--priority", "9");
      await cli(["archive", a], h.env);
      const ids = async (...flags: string[]) =>
        (await cliJson<{ id: string }[]>(["list", ...flags], h.env)).map((t) => t.id);
      expect(await ids()).toEqual([b]);
      expect((await ids("--archived")).sort()).toEqual([a, b].sort());
      expect(await ids("--status", "archived")).toEqual([a]);
      expect(await ids("--assignee", "writer")).toEqual([b]);
      expect(await ids("--tenant", "acme")).toEqual([b]);
      expect(await ids("--archived", "--sort", "priority")).toEqual([b, a]);
      const mine = await cli(["list", "--mine", "--json"], { ...h.env, KANBAN_PROFILE: "writer" });
      expect((JSON.parse(mine.out) as { id: string }[]).map((t) => t.id)).toEqual([b]);
      expect((await cli(["list", "--mine"], h.env)).code).toBe(2);
      expect((await cli(["list", "--status", "waiting"], h.env)).code).toBe(2);
      expect((await cli(["list", "--sort", "random"], h.env)).code).toBe(2);
    });

    it("promotes tasks whose parents are done before listing", async () => {
      const a = await create("A");
      const b = await create("B", "--parent", a);
      await (await apiClient(h.env)).tasks.patch.mutate({ id: a, status: "done", result: "ok" });
      const tasks = await cliJson<{ id: string; status: string }[]>(["list"], h.env);
      expect(tasks.find((t) => t.id === b)?.status).toBe("ready");
    });

    it("names the board when there are several", async () => {
      await create("A");
      await cli(["boards", "create", "ops"], h.env);
      expect((await cli(["list"], h.env)).out.split("\n")[0]).toBe("Board: default (1 other board — ops)");
      expect((await cli(["--board", "ops", "list"], h.env)).out).toBe(
        "Board: ops (1 other board — default)\n(no matching tasks)",
      );
    });
  });

  describe("show, context, runs, log", () => {
    it("shows fields, links, body, comments, events and runs as text", async () => {
      const parent = await create(
        "Parent task",
        "--body",
        "line one\nline two",
        "--assignee",
        "coder",
        "--skill",
        "git",
        "--model",
        "m1",
      );
      const child = await create("Child", "--parent", parent);
      await cli(["comment", parent, "looks", "good"], h.env);
      const r = await cli(["show", parent], h.env);
      expect(r.code).toBe(0);
      const out = r.out;
      expect(out.split("\n")[0]).toBe(`▶ ${parent}  Parent task`);
      for (const want of [
        "  status:      ready",
        "  assignee:    coder",
        "  workspace:   scratch @ (unresolved)",
        "  skills:      git",
        "  model:       m1",
        "  max-retries: 2 (default)",
        "Children:",
        `  ◻ ${child}  todo      Child`,
        "Body:\n  line one\n  line two",
        "Comments:",
        "    looks good",
        "Events (last 2 of 2):",
      ]) {
        expect(out).toContain(want);
      }
      expect(out).toMatch(/\] created \{/);
    });

    it("prints Hermes' show document with --json", async () => {
      const { id, api, runId } = await runningTask("Job");
      await api.tasks.complete.mutate({ id, summary: "did it", metadata: { files: 2 }, expected_run_id: runId });
      const doc = await cliJson<Record<string, unknown>>(["show", id], h.env);
      expect(Object.keys(doc)).toEqual(["task", "latest_summary", "parents", "children", "comments", "events", "runs"]);
      expect(Object.keys(doc.task as object)).toEqual([...TASK_DICT_KEYS]);
      expect(doc.latest_summary).toBe("did it");
      const runs = doc.runs as Record<string, unknown>[];
      expect(Object.keys(runs[0] ?? {})).toEqual([
        "id",
        "profile",
        "step_key",
        "status",
        "outcome",
        "summary",
        "error",
        "metadata",
        "worker_pid",
        "started_at",
        "ended_at",
      ]);
      expect(runs[0]).toMatchObject({ id: runId, outcome: "completed", summary: "did it", metadata: { files: 2 } });
      expect((doc.events as { kind: string }[]).map((e) => e.kind)).toEqual(["created", "claimed", "completed"]);
    });

    it("show --json: the task's keys are Hermes' task dict; started_at is the column (first claim), project_id and provider_override are read", async () => {
      const { id, api } = await runningTask("Again");
      await api.tasks.reclaim.mutate({ id, reason: "operator" });
      const second = await api.tasks.claim.mutate({ id });
      // The column holds the first claim, which a later attempt never moves; make it distinct from
      // the second run's start whatever the clock did, and give the task Hermes' newer columns.
      // Written by Python's sqlite3, as Hermes itself would write these columns (our API sets neither).
      const py = spawnSync("python3", [
        "-c",
        "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute(\"UPDATE tasks SET started_at = 1000000, project_id = 'proj-7', provider_override = 'openrouter' WHERE id = ?\", (sys.argv[2],)); c.commit()",
        path.join(h.home, "kanban.db"),
        id,
      ]);
      expect(py.status, py.stderr.toString()).toBe(0);
      const doc = await cliJson<{ task: Record<string, unknown>; runs: { id: number; started_at: number }[] }>(
        ["show", id],
        h.env,
      );
      // Spec §5, `_task_to_dict`: the v1 keys in Hermes' order, then the newer Hermes' project_id, provider_override.
      expect(Object.keys(doc.task)).toEqual([
        ...[
          "id",
          "title",
          "body",
          "assignee",
          "status",
          "priority",
          "tenant",
          "workspace_kind",
          "workspace_path",
          "branch_name",
        ],
        ...[
          "created_by",
          "created_at",
          "started_at",
          "completed_at",
          "result",
          "skills",
          "max_runtime_seconds",
          "max_retries",
        ],
        ...[
          "model_override",
          "session_id",
          "workflow_template_id",
          "current_step_key",
          "project_id",
          "provider_override",
        ],
      ]);
      expect(doc.task).toMatchObject({ started_at: 1000000, project_id: "proj-7", provider_override: "openrouter" });
      const current = doc.runs.find((r) => r.id === second.run_id);
      expect(current?.started_at).toBeGreaterThan(1000000);
      const listed = (await cliJson<Record<string, unknown>[]>(["list"], h.env)).find((t) => t.id === id);
      expect(listed).toMatchObject({ started_at: 1000000, project_id: "proj-7", provider_override: "openrouter" });
      const text = await cli(["show", id], h.env);
      expect(text.out).toContain(`  started:     ${formatTime(1000000)}`);
    });

    it("fails with `no such task` (exit 1, one line) for an unknown id in show, context, runs, log", async () => {
      for (const verb of ["show", "context", "runs", "log"]) {
        const r = await cli([verb, "t_nope"], h.env);
        expect(r.code, verb).toBe(1);
        expectOneErrorLine(r.err, "kanban: no such task: t_nope");
      }
      const bad = await cli(["show", "not an id!"], h.env);
      expect(bad.code).toBe(2);
      expectOneErrorLine(bad.err, "ids are 1-64 characters");
    });

    it("prints the worker context", async () => {
      const id = await create("Context me", "--body", "do X", "--assignee", "coder");
      const r = await cli(["context", id], h.env);
      expect(r.code).toBe(0);
      expect(r.out).toContain(`# Kanban task ${id}: Context me`);
      expect(r.out).toContain("do X");
    });

    it("lists runs as a table and as JSON", async () => {
      const { id, api } = await runningTask();
      await api.tasks.reclaim.mutate({ id, reason: "operator" });
      await api.tasks.claim.mutate({ id });
      const text = await cli(["runs", id], h.env);
      const lines = text.out.split("\n").filter((l) => !l.startsWith("    "));
      expect(text.out).toContain("    ✖ manual_reclaim: operator");
      expect(lines[0]).toMatch(/^# +OUTCOME +PROFILE +ELAPSED +STARTED$/);
      expect(lines[1]).toMatch(/^1 +reclaimed +coder +\d+s +\d{4}-\d\d-\d\d \d\d:\d\d$/);
      expect(lines[2]).toMatch(/^2 +running +coder/);
      const json = await cliJson<Record<string, unknown>[]>(["runs", id], h.env);
      expect(json.map((r) => r.outcome)).toEqual(["reclaimed", null]);
      expect(Object.keys(json[0] ?? {})).toEqual([
        "id",
        "profile",
        "status",
        "outcome",
        "started_at",
        "ended_at",
        "summary",
        "error",
        "metadata",
        "worker_pid",
        "step_key",
      ]);
      const none = await create("fresh");
      expect((await cli(["runs", none], h.env)).out).toBe(`(no runs for ${none})`);
    });

    it("prints the worker log (or its tail), and says when there is none (exit 1)", async () => {
      const id = await create("logged");
      const missing = await cli(["log", id], h.env);
      expect(missing.code).toBe(1);
      expectOneErrorLine(missing.err, `(no log for ${id} — task may not have spawned yet)`);
      const { path: file } = await (await apiClient(h.env)).tasks.log.query({ id });
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, "first line\nsecond line\nthird line\n");
      expect((await cli(["log", id], h.env)).out).toBe("first line\nsecond line\nthird line");
      expect((await cli(["log", id, "--tail", "15"], h.env)).out).toBe("third line");
    });
  });

  describe("assign, reclaim, reassign, link, unlink", () => {
    it("assigns and unassigns; a running claimed task refuses", async () => {
      const id = await create("t");
      expect((await cli(["assign", id, "coder"], h.env)).out).toBe(`Assigned ${id} to coder`);
      expect((await cli(["assign", id, "none"], h.env)).out).toBe(`Assigned ${id} to (unassigned)`);
      const running = await runningTask();
      const r = await cli(["assign", running.id, "writer"], h.env);
      expect(r.code).toBe(1);
      expectOneErrorLine(r.err, `kanban: cannot reassign ${running.id}`);
    });

    it("reclaims a running task back to ready, and refuses anything else", async () => {
      const { id } = await runningTask();
      const r = await cli(["reclaim", id, "--reason", "stuck"], h.env);
      expect(r).toMatchObject({ code: 0, out: `Reclaimed ${id}` });
      expect((await cliJson<{ task: { status: string } }>(["show", id], h.env)).task.status).toBe("ready");
      const again = await cli(["reclaim", id], h.env);
      expect(again.code).toBe(1);
      expectOneErrorLine(again.err, `kanban: cannot reclaim ${id} (not running or unknown id)`);
    });

    it("reassigns; a running task needs --reclaim", async () => {
      const { id } = await runningTask();
      const refused = await cli(["reassign", id, "writer"], h.env);
      expect(refused.code).toBe(1);
      expectOneErrorLine(
        refused.err,
        `kanban: cannot reassign ${id} (unknown id, or still running — pass --reclaim to release first)`,
      );
      const r = await cli(["reassign", id, "writer", "--reclaim", "--reason", "wrong profile"], h.env);
      expect(r).toMatchObject({ code: 0, out: `Reassigned ${id} to writer (claim reclaimed)` });
      const idle = await create("idle");
      expect((await cli(["reassign", idle, "coder"], h.env)).out).toBe(`Reassigned ${idle} to coder`);
    });

    it("links and unlinks, reporting a demoted child, refusing cycles and missing links", async () => {
      const p = await create("p");
      const c = await create("c", "--assignee", "coder");
      const linked = await cli(["link", p, c], h.env);
      expect(linked.out).toBe(`Linked ${p} -> ${c}\n(${c} moved back to todo until ${p} is done)`);
      const cycle = await cli(["link", c, p], h.env);
      expect(cycle.code).toBe(1);
      expectOneErrorLine(cycle.err, /cycle/);
      expect((await cli(["unlink", p, c], h.env)).out).toBe(`Unlinked ${p} -> ${c}`);
      const none = await cli(["unlink", p, c], h.env);
      expect(none.code).toBe(1);
      expectOneErrorLine(none.err, `kanban: No such link: ${p} -> ${c}`);
    });
  });

  describe("claim, heartbeat, complete, edit", () => {
    it("claims a ready task and refuses a claimed one with its status and lock", async () => {
      const id = await create("t", "--assignee", "coder");
      const r = await cli(["claim", id, "--ttl", "60"], h.env);
      expect(r.out).toMatch(new RegExp(`^Claimed ${id}\nWorkspace: scratch @ (/.+/kanban/workspaces/${id})$`));
      expect(fs.statSync(r.out.split(" @ ")[1] ?? "").isDirectory()).toBe(true);
      const again = await cli(["claim", id], h.env);
      expect(again.code).toBe(1);
      expectOneErrorLine(again.err, new RegExp(`^kanban: cannot claim ${id}: status=running lock=\\S+$`));
    });

    it("records a worker's heartbeat with its fence, and refuses one without", async () => {
      const { id, workerEnv } = await runningTask();
      expect((await cli(["heartbeat", id, "--note", "halfway"], workerEnv)).out).toBe(`Heartbeat recorded for ${id}`);
      const events = (await cliJson<{ events: { kind: string; payload: unknown }[] }>(["show", id], h.env)).events;
      expect(events.at(-1)).toMatchObject({ kind: "heartbeat", payload: { note: "halfway" } });
      const idle = await create("idle");
      const r = await cli(["heartbeat", idle], h.env);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/^kanban: /);
    });

    it("completes several tasks, reporting each, exit 1 when any failed", async () => {
      const a = await create("a");
      const b = await create("b");
      const r = await cli(["complete", a, "t_nope", b, "--result", "ok"], h.env);
      expect(r.code).toBe(1);
      expect(r.out).toBe(`Completed ${a}\nCompleted ${b}`);
      expectOneErrorLine(r.err, "kanban: cannot complete t_nope (unknown id)");
      const done = await cli(["complete", a, "--result", "again"], h.env);
      expect(done.code).toBe(1);
      expectOneErrorLine(done.err, `cannot complete ${a}`);
    });

    it("refuses per-task flags with several ids and malformed metadata (exit 2)", async () => {
      const a = await create("a");
      for (const flags of [
        ["--summary", "s"],
        ["--metadata", "{}"],
        ["--created-card", "t_x"],
      ]) {
        const r = await cli(["complete", a, "t_b", ...flags], h.env);
        expect(r.code).toBe(2);
        expectOneErrorLine(r.err, "per-task");
      }
      expect((await cli(["complete", a, "--metadata", "{oops"], h.env)).code).toBe(2);
      expect((await cli(["complete", a, "--metadata", "[1]"], h.env)).code).toBe(2);
    });

    it("gates --created-card: a phantom id refuses the completion and the task stays running", async () => {
      const { id, workerEnv } = await runningTask();
      const real = await cliJson<{ id: string }>(["create", "follow-up", "--assignee", "writer"], workerEnv);
      const refused = await cli(
        ["complete", id, "--summary", "done", "--created-card", real.id, "--created-card", "t_deadbeef"],
        workerEnv,
      );
      expect(refused.code).toBe(1);
      expectOneErrorLine(refused.err, "t_deadbeef");
      expect(refused.err).toContain(`${id} is unchanged`);
      expect((await cliJson<{ task: { status: string } }>(["show", id], h.env)).task.status).toBe("running");
      const ok = await cli(
        ["complete", id, "--summary", "done", "--metadata", '{"tests":"green"}', "--created-card", real.id],
        workerEnv,
      );
      expect(ok).toMatchObject({ code: 0, out: `Completed ${id}` });
      const shown = await cliJson<{ runs: { outcome: string; metadata: unknown }[] }>(["show", id], h.env);
      expect(shown.runs.at(-1)).toMatchObject({ outcome: "completed", metadata: { tests: "green" } });
    });

    it("refuses a reclaimed worker's late completion (STALE_RUN) and leaves the new attempt alone", async () => {
      const { id, api, workerEnv } = await runningTask();
      await api.tasks.reclaim.mutate({ id });
      const second = await api.tasks.claim.mutate({ id });
      const r = await cli(["complete", id, "--summary", "late"], workerEnv);
      expect(r.code).toBe(1);
      expectOneErrorLine(r.err, "no longer the active run");
      const shown = await cliJson<{ task: { status: string } }>(["show", id], h.env);
      expect(shown.task.status).toBe("running");
      expect((await api.tasks.get.query({ id })).task.current_run_id).toBe(second.run_id);
    });

    it("edits a done task's handoff and any task's title, body and priority", async () => {
      const id = await create("old title");
      expect((await cli(["edit", id, "--title", "new title", "--priority", "7", "--body", "b"], h.env)).out).toBe(
        `Edited ${id}`,
      );
      expect(await cliJson(["show", id], h.env)).toMatchObject({
        task: { title: "new title", priority: 7, body: "b" },
      });
      await cli(["complete", id, "--result", "first"], h.env);
      expect(
        (await cli(["edit", id, "--result", "second", "--summary", "s2", "--metadata", '{"k":1}'], h.env)).code,
      ).toBe(0);
      expect((await cliJson<{ task: { result: string } }>(["show", id], h.env)).task.result).toBe("second");
      expect((await cli(["edit", id], h.env)).code).toBe(2);
      expect((await cli(["edit", id, "--summary", "s"], h.env)).code).toBe(2);
      const open = await create("open");
      const r = await cli(["edit", open, "--result", "x"], h.env);
      expect(r.code).toBe(1);
    });
  });

  describe("block, schedule, unblock, promote, archive, comment", () => {
    it("blocks with a BLOCKED comment, several tasks with --ids, and unblocks them", async () => {
      const a = await create("a", "--assignee", "coder");
      const b = await create("b", "--assignee", "coder");
      const r = await cli(["block", a, "which", "version?", "--ids", b], { ...h.env, KANBAN_PROFILE: "lead" });
      expect(r.out).toBe(`Blocked ${a}: which version?\nBlocked ${b}: which version?`);
      const shown = await cliJson<{ task: { status: string }; comments: { author: string; body: string }[] }>(
        ["show", a],
        h.env,
      );
      expect(shown.task.status).toBe("blocked");
      expect(shown.comments).toEqual([expect.objectContaining({ author: "lead", body: "BLOCKED: which version?" })]);
      const un = await cli(["unblock", a, b, "--reason", "use 16"], h.env);
      expect(un.out).toBe(`Unblocked ${a}\nUnblocked ${b}`);
      const again = await cli(["unblock", a], h.env);
      expect(again.code).toBe(1);
      expectOneErrorLine(again.err, `kanban: cannot unblock ${a} (not blocked/scheduled?)`);
    });

    it("schedules with and without a reason", async () => {
      const a = await create("a");
      const b = await create("b");
      expect((await cli(["schedule", a, "after", "the", "release"], h.env)).out).toBe(
        `Scheduled ${a}: after the release`,
      );
      expect((await cli(["schedule", b], h.env)).out).toBe(`Scheduled ${b}`);
      expect((await cliJson<{ task: { status: string } }>(["show", a], h.env)).task.status).toBe("scheduled");
      const bad = await cli(["block", "t_nope", "why"], h.env);
      expect(bad.code).toBe(1);
      expectOneErrorLine(bad.err, "kanban: cannot block t_nope (unknown id)");
    });

    it("--kind: the same kind twice goes to triage; an unknown kind is one line", async () => {
      const a = await create("a", "--assignee", "coder");
      expect((await cli(["block", a, "need", "the", "key", "--kind", "needs_input"], h.env)).out).toBe(
        `Blocked ${a}: need the key`,
      );
      await cli(["unblock", a], h.env);
      const loop = await cli(["block", a, "still", "no", "key", "--kind", "needs_input"], h.env);
      expect(loop.code).toBe(0);
      expect(loop.out).toBe(`${a} → triage (block loop detected: blocked twice for the same kind; a person decides)`);
      expect((await cliJson<{ task: { status: string } }>(["show", a], h.env)).task.status).toBe("triage");
      const bad = await cli(["block", a, "x", "--kind", "bored"], h.env);
      expect(bad.code).not.toBe(0);
      expectOneErrorLine(bad.err, "kind");
    });

    it("promotes (dry run first), as text and JSON, exit 1 when any id fails", async () => {
      const p = await create("p");
      const a = await create("a", "--initial-status", "blocked");
      const c = await create("c", "--parent", p);
      expect((await cli(["promote", a, "--dry-run"], h.env)).out).toBe(`Would promote ${a} -> ready`);
      expect(await cliJson(["promote", a, "--dry-run"], h.env)).toEqual({
        task_id: a,
        promoted: false,
        dry_run: true,
        reason: null,
        error: null,
      });
      expect((await cli(["promote", a, "ready", "now"], h.env)).out).toBe(`Promoted ${a} -> ready: ready now`);
      const bulk = await cli(["promote", c, "--ids", p, "--json"], h.env);
      expect(bulk.code).toBe(1);
      const rows = JSON.parse(bulk.out) as { task_id: string; promoted: boolean; error: string | null }[];
      expect(rows.map((x) => x.task_id)).toEqual([c, p]);
      expect(rows[0]?.promoted).toBe(false);
      expect(rows[0]?.error).toMatch(/parent/);
      const text = await cli(["promote", c], h.env);
      expect(text.code).toBe(1);
      expectOneErrorLine(text.err, `kanban: cannot promote ${c}: `);
    });

    it("archives, deletes archived tasks with --rm, and refuses both or neither (exit 1)", async () => {
      const a = await create("a");
      const b = await create("b");
      expect((await cli(["archive", a, b], h.env)).out).toBe(`Archived ${a}\nArchived ${b}`);
      expect((await cli(["archive", "--rm", a], h.env)).out).toBe(`Deleted ${a}`);
      expect((await cli(["show", a], h.env)).code).toBe(1);
      expect((await cli(["archive"], h.env)).code).toBe(1);
      expect((await cli(["archive", b, "--rm", b], h.env)).code).toBe(1);
      const live = await create("live");
      const r = await cli(["archive", "--rm", live], h.env);
      expect(r.code).toBe(1);
      expectOneErrorLine(r.err, `cannot delete ${live}`);
    });

    it("comments as the profile (or --author), trimming with --max-len", async () => {
      const a = await create("a");
      expect((await cli(["comment", a, "hello", "world"], { ...h.env, KANBAN_PROFILE: "coder" })).out).toBe(
        `Comment added to ${a}`,
      );
      await cli(["comment", a, "abcdefghij", "--author", "ops", "--max-len", "4"], h.env);
      const { comments } = await cliJson<{ comments: { author: string; body: string }[] }>(["show", a], h.env);
      expect(comments.map((c) => [c.author, c.body])).toEqual([
        ["coder", "hello world"],
        ["ops", "abcd [trimmed to 4 chars by --max-len]"],
      ]);
      expect((await cli(["comment", "t_nope", "x"], h.env)).code).toBe(1);
    });
  });

  describe("boards", () => {
    it("creates, lists, switches, renames, sets the workdir and removes boards", async () => {
      const made = await cli(["boards", "create", "ops", "--name", "Operations", "--switch"], h.env);
      expect(made.code, made.err).toBe(0);
      expect(made.out).toContain("Board ops ready (Operations)");
      expect(made.out).toContain("Current board: ops");
      expect((await cli(["boards", "show"], h.env)).out).toBe("ops");
      await create("on ops");
      const list = await cli(["boards", "ls"], h.env);
      expect(list.out.split("\n")).toEqual([
        expect.stringMatching(/^ +SLUG +NAME +COUNTS$/),
        expect.stringMatching(/^ +default +\S.* +0 tasks$/),
        expect.stringMatching(/^\* +ops +Operations +1 tasks \(ready=1\)$/),
        "Current board: ops",
      ]);
      const json = await cliJson<{ slug: string; is_current: boolean; total: number }[]>(["boards", "list"], h.env);
      expect(json.map((b) => [b.slug, b.is_current, b.total])).toEqual([
        ["default", false, 0],
        ["ops", true, 1],
      ]);
      expect((await cli(["boards", "use", "default"], h.env)).out).toBe("Current board: default");
      expect((await cli(["boards", "rename", "ops", "Ops team"], h.env)).out).toBe('Renamed board ops to "Ops team"');
      expect((await cli(["boards", "set-default-workdir", "ops", h.home], h.env)).out).toBe(
        `Default workdir of ops: ${h.home}`,
      );
      expect((await cli(["boards", "set-default-workdir", "ops"], h.env)).out).toBe(
        "Cleared the default workdir of ops",
      );
      const rm = await cli(["boards", "rm", "ops"], h.env);
      expect(rm.out).toMatch(/^Archived board ops \(moved to .*_archived.*\)$/);
      expect((await cliJson<unknown[]>(["boards", "list"], h.env)).length).toBe(1);
      await cli(["boards", "create", "tmp"], h.env);
      expect((await cli(["boards", "delete", "tmp", "--delete"], h.env)).out).toBe("Deleted board tmp");
    });

    it("refuses unknown boards (exit 1) and malformed slugs (exit 2)", async () => {
      const unknown = await cli(["--board", "nowhere", "list"], h.env);
      expect(unknown.code).toBe(1);
      expectOneErrorLine(
        unknown.err,
        "kanban: board 'nowhere' does not exist. Create it with `kanban boards create nowhere`.",
      );
      expect((await cli(["--board", "-bad", "list"], h.env)).code).toBe(2);
      expect((await cli(["boards", "create", "Bad Slug!"], h.env)).code).toBe(2);
      expect((await cli(["boards", "switch", "nowhere"], h.env)).code).toBe(1);
      const rmDefault = await cli(["boards", "rm", "default"], h.env);
      expect(rmDefault.code).toBe(1);
      expectOneErrorLine(rmDefault.err, "cannot be removed");
    });

    it("routes every verb to the --board (or KANBAN_BOARD) board", async () => {
      await cli(["boards", "create", "ops"], h.env);
      const id = await create("elsewhere", "--assignee", "x");
      const onOps = createdId((await cli(["--board", "ops", "create", "on ops"], h.env)).out);
      expect((await cliJson<{ id: string }[]>(["list"], h.env)).map((t) => t.id)).toEqual([id]);
      expect((await cliJson<{ id: string }[]>(["list"], { ...h.env, KANBAN_BOARD: "ops" })).map((t) => t.id)).toEqual([
        onOps,
      ]);
      expect((await cli(["show", onOps], h.env)).code).toBe(1);
      expect((await cli(["--board", "ops", "show", onOps], h.env)).code).toBe(0);
    });
  });

  describe("init, stats, assignees, diagnostics", () => {
    it("initialises the database and names the profiles", async () => {
      const r = await cli(["init"], h.env);
      expect(r.code).toBe(0);
      expect(r.out.split("\n")[0]).toBe(`Kanban DB initialized at ${path.join(h.home, "kanban.db")}`);
      expect(fs.existsSync(path.join(h.home, "kanban.db"))).toBe(true);
      fs.writeFileSync(
        path.join(h.home, "config.json"),
        JSON.stringify({ profiles: { coder: { command: ["echo"] } } }),
      );
      expect((await cli(["init"], h.env)).out).toContain("Profiles: coder");
    });

    it("prints stats as text and JSON", async () => {
      await create("a", "--assignee", "coder");
      await create("b", "--assignee", "coder", "--initial-status", "blocked");
      const text = await cli(["stats"], h.env);
      expect(text.out).toContain("By status:\n  triage     0\n  todo       0\n  scheduled  0\n  ready      1");
      expect(text.out).toContain("  blocked    1");
      expect(text.out).toContain("By assignee:\n  coder  ready=1, blocked=1");
      expect(text.out).toMatch(/Oldest ready task age: \d+s$/);
      const json = await cliJson<Record<string, unknown>>(["stats"], h.env);
      expect(json).toMatchObject({
        by_status: { ready: 1, blocked: 1 },
        by_assignee: { coder: { ready: 1, blocked: 1 } },
      });
      expect(Object.keys(json).sort()).toEqual(["by_assignee", "by_status", "now", "oldest_ready_age_seconds"]);
    });

    it("lists assignees with on-disk flags and counts", async () => {
      fs.writeFileSync(
        path.join(h.home, "config.json"),
        JSON.stringify({ profiles: { coder: { command: ["echo"] } } }),
      );
      await create("a", "--assignee", "writer");
      const text = await cli(["assignees"], h.env);
      expect(text.out.split("\n")).toEqual([
        expect.stringMatching(/^NAME +ON DISK +COUNTS$/),
        expect.stringMatching(/^coder +yes +-$/),
        expect.stringMatching(/^writer +no +ready=1$/),
      ]);
      expect(await cliJson(["assignees"], h.env)).toEqual([
        { name: "coder", on_disk: true, counts: {} },
        { name: "writer", on_disk: false, counts: { ready: 1 } },
      ]);
    });

    it("reports diagnostics (a refused hallucinated completion) as text and JSON, filtered by task and severity", async () => {
      expect((await cli(["diagnostics"], h.env)).out).toBe("(no diagnostics)");
      const { id, workerEnv } = await runningTask("hallucinating");
      await cli(["complete", id, "--summary", "x", "--created-card", "t_00000000"], workerEnv);
      const text = await cli(["diag", "--task", id], h.env);
      expect(text.out).toContain(`${id}  running   coder`);
      expect(text.out).toContain("[error] hallucinated_cards:");
      const json = await cliJson<{ task_id: string; diagnostics: { kind: string }[] }[]>(
        ["diagnostics", "--severity", "error"],
        h.env,
      );
      expect(json.map((t) => [t.task_id, t.diagnostics.map((d) => d.kind)])).toEqual([[id, ["hallucinated_cards"]]]);
      expect(await cliJson(["diagnostics", "--severity", "critical"], h.env)).toEqual([]);
      expect((await cli(["diagnostics", "--severity", "fatal"], h.env)).code).toBe(2);
    });
  });

  describe("notify", () => {
    it("subscribes, lists and unsubscribes a chat", async () => {
      const id = await create("watched");
      const sub = await cli(
        [
          "notify-subscribe",
          id,
          "--platform",
          "slack",
          "--chat-id",
          "C1",
          "--thread-id",
          "T9",
          "--chat-type",
          "thread",
          "--delivery-mode",
          "notify",
        ],
        h.env,
      );
      expect(sub.out).toBe(`Subscribed slack:C1:T9 to ${id}`);
      expect((await cli(["notify-list"], h.env)).out).toMatch(
        new RegExp(`^  ${id}  slack:C1:T9  \\(since event \\d+\\) chat_type=thread mode=notify$`),
      );
      const json = await cliJson<{ platform: string; chat_id: string; thread_id: string }[]>(
        ["notify-list", id],
        h.env,
      );
      expect(json).toEqual([expect.objectContaining({ platform: "slack", chat_id: "C1", thread_id: "T9" })]);
      expect(
        (await cli(["notify-unsubscribe", id, "--platform", "slack", "--chat-id", "C1", "--thread-id", "T9"], h.env))
          .out,
      ).toBe(`Unsubscribed from ${id}`);
      expect((await cli(["notify-list"], h.env)).out).toBe("(no subscriptions)");
      const again = await cli(["notify-unsubscribe", id, "--platform", "slack", "--chat-id", "C1"], h.env);
      expect(again.code).toBe(1);
      expectOneErrorLine(again.err, "kanban: (no such subscription)");
      expect((await cli(["notify-subscribe", "t_nope", "--platform", "p", "--chat-id", "c"], h.env)).code).toBe(1);
      expect((await cli(["notify-subscribe", id, "--platform", "p"], h.env)).code).toBe(2);
    });
  });

  describe("tail and watch (live subscription)", () => {
    /** Runs a long-running verb in-process, returning its live output and a stop handle. */
    function live(argv: string[]) {
      const out: string[] = [];
      const err: string[] = [];
      const stop = new AbortController();
      const done = import("./main.ts").then(({ runCli }) =>
        runCli(argv, { env: h.env, io: { out: (l) => out.push(l), err: (l) => err.push(l) }, stopSignal: stop.signal }),
      );
      const until = async (pred: (lines: string[]) => boolean, what: string) => {
        const deadline = Date.now() + 10_000;
        while (!pred(out)) {
          if (Date.now() > deadline)
            throw new Error(`timed out waiting for ${what}; out=${out.join("|")} err=${err.join("|")}`);
          await new Promise((r) => setTimeout(r, 10));
        }
      };
      return { out, err, stop, done, until };
    }

    it("tail prints a task's new events as they happen and stops on the signal with (stopped)", async () => {
      const id = await create("tailed");
      const other = await create("other");
      const t = live(["tail", id]);
      await t.until((l) => l.includes(`Tailing events for ${id}. Ctrl-C to stop.`), "header");
      const api = await apiClient(h.env);
      // The stream starts at "now": wait until a probe event arrives, then check ordering and filtering.
      let probe = 0;
      while (!t.out.some((l) => l.includes("commented"))) {
        await api.comments.add.mutate({ task_id: id, body: `probe ${probe++}`, author: "x" });
        await new Promise((r) => setTimeout(r, 50));
        if (probe > 100) throw new Error("tail never printed an event");
      }
      await api.comments.add.mutate({ task_id: other, body: "elsewhere", author: "x" });
      await api.tasks.block.mutate({ id, reason: "why" });
      await t.until((l) => l.some((x) => / blocked /.test(x)), "blocked event");
      t.stop.abort();
      expect(await t.done).toBe(0);
      expect(t.out.at(-1)).toBe("(stopped)");
      expect(t.out.filter((l) => l.startsWith("[")).every((l) => /^\[\d{4}-\d\d-\d\d \d\d:\d\d\] \w+/.test(l))).toBe(
        true,
      );
      expect(t.out.join("\n")).not.toContain("elsewhere");
    });

    it("tail fails at once (exit 1) for an unknown task", async () => {
      const r = await cli(["tail", "t_nope"], h.env);
      expect(r.code).toBe(1);
      expectOneErrorLine(r.err, "kanban: no such task: t_nope");
    });

    it("watch prints board-wide events with task, kind and assignee, filtered by --kinds", async () => {
      const a = await create("a", "--assignee", "coder");
      const w = live(["watch", "--kinds", "commented,blocked"]);
      await w.until((l) => l.includes("Watching board events. Ctrl-C to stop."), "header");
      const api = await apiClient(h.env);
      let n = 0;
      while (!w.out.some((l) => l.includes("commented"))) {
        await api.comments.add.mutate({ task_id: a, body: `probe ${n++}`, author: "x" });
        await new Promise((r) => setTimeout(r, 50));
        if (n > 100) throw new Error("watch never printed an event");
      }
      await api.tasks.patch.mutate({ id: a, priority: 3 });
      await api.tasks.block.mutate({ id: a, reason: "q" });
      await w.until((l) => l.some((x) => x.includes("blocked")), "blocked event");
      w.stop.abort();
      expect(await w.done).toBe(0);
      const rows = w.out.filter((l) => l.startsWith("["));
      expect(rows.every((l) => new RegExp(`^\\[[^\\]]+\\] ${a} (commented|blocked) +\\(@coder\\)`).test(l))).toBe(true);
      expect(rows.some((l) => l.includes("reprioritized"))).toBe(false);
    });
  });

  describe("gc", () => {
    it("removes old events, logs and archived scratch workspaces and reports the counts", async () => {
      const help = await cli(["gc", "--help"], h.env);
      expect(help.code).toBe(0);
      expect(help.out).toContain("--event-retention-days <n>");
      const r = await cli(["gc", "--event-retention-days", "7"], h.env);
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/^GC complete: \d+ workspace\(s\), \d+ event row\(s\), \d+ log file\(s\) removed$/m);
      expect((await cli(["gc", "--log-retention-days", "x"], h.env)).code).toBe(2);
    });
  });
});

describe("remote transport", () => {
  it("reports an unreachable API in one line (exit 1)", async () => {
    const net = await import("node:net");
    const port = await new Promise<number>((resolve) => {
      const srv = net.createServer().listen(0, "127.0.0.1", () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => resolve(p));
      });
    });
    const home = tempHome();
    try {
      const r = await cli(["list"], { ...home.env, KANBAN_URL: `http://127.0.0.1:${port}` });
      expect(r.code).toBe(1);
      expectOneErrorLine(r.err, `kanban: cannot reach the API at http://127.0.0.1:${port}/trpc: `);
    } finally {
      home.cleanup();
    }
  });

  it("sends KANBAN_TOKEN as the bearer token; a missing or wrong one is refused (exit 1)", async () => {
    const home = tempHome();
    const elsewhere = tempHome();
    const srv = await startServer({
      host: "127.0.0.1",
      port: 0,
      token: "s3cret",
      location: { home: home.home },
      logger: silentLogger,
    });
    try {
      // The client's own KANBAN_HOME is another, empty directory: nothing may be written there.
      const base = { ...elsewhere.env, KANBAN_URL: `${srv.url}/trpc` };
      const missing = await cli(["list"], base);
      expect(missing.code).toBe(1);
      expectOneErrorLine(missing.err, "missing bearer token");
      const wrong = await cli(["list"], { ...base, KANBAN_TOKEN: "nope" });
      expectOneErrorLine(wrong.err, "kanban: invalid token");
      const ok = await cli(["create", "over http"], { ...base, KANBAN_TOKEN: "s3cret" });
      expect(ok.code, ok.err).toBe(0);
      expect(fs.existsSync(path.join(home.home, "kanban.db"))).toBe(true);
      expect(fs.readdirSync(elsewhere.home)).toEqual([]);
    } finally {
      await srv.close();
      home.cleanup();
      elsewhere.cleanup();
    }
  });
});

describe("error output", () => {
  beforeEach(() => setUp("local"));
  afterEach(() => tearDown());
  it("never echoes control characters from the input to the terminal", async () => {
    const r = await cli(["--board", "\u001b[31mred\nline", "list"], h.env);
    expect(r.code).toBe(2);
    expect(r.err).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    expect(r.err.trim().split("\n")).toHaveLength(1);
  });
});
