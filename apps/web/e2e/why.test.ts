import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { KanbanClient } from "@kanban/api/client";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT, WEB_DIR } from "./env.ts";
import { startServer, stopServer } from "./global-setup.ts";
import {
  api,
  type Browser,
  captureOnFailure,
  card,
  column,
  launch,
  noPageErrors,
  runNode,
  shot,
  waitUntil,
} from "./helpers.ts";

/**
 * Issue 16 on the board: each card that is not moving says why in one line (the kernel's motion,
 * the same words as `tasks.why` and `kanban why`), and the drawer's "Why / Liveness" panel shows a
 * running worker's lease, heartbeat, pid, host, footprint and last log line. Everything is real: a
 * server and a dispatcher on a home of this file's own, and a worker process the dispatcher spawns.
 */
const WORKER = path.join(WEB_DIR, "e2e", "fixtures", "steady-worker.mjs");
const DISPATCHER = path.join(REPO_ROOT, "packages", "dispatcher", "bin", "kanban-dispatcher.mjs");

let b: Browser;
let home: string;
let server: { child: ChildProcess; url: string };
let dispatcher: ChildProcess;
let client: KanbanClient;

/** The environment of a process working on this file's home (never the developer's board). */
function homeEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, KANBAN_HOME: home, ...extra };
  for (const k of ["KANBAN_DB", "KANBAN_BOARD", "KANBAN_TOKEN", "KANBAN_URL", "KANBAN_WORKSPACES_ROOT"]) delete env[k];
  return env;
}

beforeAll(async () => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), "kanban-e2e-why-"));
  fs.writeFileSync(
    path.join(home, "config.json"),
    JSON.stringify({
      profiles: { agent: { command: [process.execPath, WORKER, "{task_id}"] } },
      kanban: { dispatch_interval_seconds: 1 },
    }),
  );
  server = await startServer(home);
  client = api(server.url);
  // The real dispatcher loop on this home: it claims, spawns the worker and samples its footprint.
  const log = fs.openSync(path.join(home, "dispatcher.log"), "a");
  dispatcher = spawn(process.execPath, [DISPATCHER], {
    cwd: REPO_ROOT,
    env: homeEnv({ KANBAN_DISPATCH_INTERVAL: "1" }),
    stdio: ["ignore", log, log],
    detached: true,
  });
  fs.closeSync(log);
  b = await launch();
});

afterAll(async () => {
  await b?.close();
  if (dispatcher && dispatcher.exitCode === null && dispatcher.signalCode === null) {
    // SIGTERM: the dispatcher gives back its workers' claims and stops their process trees.
    const exited = new Promise((resolve) => dispatcher.once("exit", resolve));
    dispatcher.kill("SIGTERM");
    const timer = setTimeout(() => dispatcher.kill("SIGKILL"), 15_000);
    await exited;
    clearTimeout(timer);
  }
  if (server) await stopServer(server.child);
  if (home) fs.rmSync(home, { recursive: true, force: true });
});

async function openOwnBoard(slug: string): Promise<Page> {
  const page = b.context.pages()[0] ?? (await b.context.newPage());
  await page.goto(`${server.url}/?board=${encodeURIComponent(slug)}`);
  await page.locator(`[data-testid="board"][data-board="${slug}"]`).waitFor();
  await expect.poll(() => page.getByTestId("live-status").getAttribute("data-state"), { timeout: 10_000 }).toBe("live");
  return page;
}

/** `kanban why <id> --json` on the same home, through the CLI's own process (no server). */
async function cliWhy(board: string, id: string): Promise<{ code: string; line: string; moving: boolean }> {
  const run = await runNode(
    [path.join(REPO_ROOT, "apps", "cli", "bin", "kanban.mjs"), "--board", board, "why", id, "--json"],
    {
      KANBAN_HOME: home,
    },
  );
  expect(run.stderr).toBe("");
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout);
}

describe("why isn't this moving", () => {
  it("says on each still card what tasks.why and kanban why say, and shows a running worker's liveness in the drawer", async () => {
    captureOnFailure(b, "why-liveness");
    const board = `why-${Math.random().toString(36).slice(2, 7)}`;
    await client.boards.create.mutate({ slug: board, name: "Why" });

    // Three cards that will not move, each for its own reason, and one the dispatcher runs.
    const parent = (await client.tasks.create.mutate({ board, title: "Agree on the API", triage: true })).task;
    const child = (
      await client.tasks.create.mutate({ board, title: "Build the client", assignee: "agent", parents: [parent.id] })
    ).task;
    const unassigned = (await client.tasks.create.mutate({ board, title: "Nobody's job yet" })).task;
    const ghost = (await client.tasks.create.mutate({ board, title: "For a missing profile", assignee: "ghost" })).task;
    const job = (await client.tasks.create.mutate({ board, title: "Crunch the numbers", assignee: "agent" })).task;

    const page = await openOwnBoard(board);

    // The worker runs: the dispatcher claimed the task and spawned the fixture, which heartbeats.
    const running = await waitUntil(
      async () => {
        const t = (await client.tasks.get.query({ board, id: job.id })).task;
        return t.status === "running" && t.worker_pid !== null && t.last_heartbeat_at !== null ? t : null;
      },
      30_000,
      "the dispatcher to spawn the worker and the worker to heartbeat",
    );

    // Each still card's line is the server's sentence, word for word, and the CLI's.
    const expectedCodes: Record<string, string> = {
      [child.id]: "waiting_on_parents",
      [unassigned.id]: "unassigned",
      [ghost.id]: "not_runnable_profile",
    };
    for (const [id, code] of Object.entries(expectedCodes)) {
      const why = await client.tasks.why.query({ board, id });
      expect(why.moving).toBe(false);
      expect(why.code).toBe(code);
      const motion = card(page, id).getByTestId("card-motion");
      await motion.waitFor();
      expect(await motion.getAttribute("data-code")).toBe(code);
      expect(await motion.getByTestId("card-motion-line").textContent()).toBe(why.line);
      // The whole sentence is the tooltip (the line itself may be cut to one row).
      expect(await motion.getAttribute("title")).toBe(why.line);
      const cli = await cliWhy(board, id);
      expect(cli.code).toBe(code);
      expect(cli.line).toBe(why.line);
    }
    expect(await card(page, child.id).getByTestId("card-motion").getAttribute("data-family")).toBe("waiting");
    expect(await card(page, ghost.id).getByTestId("card-motion").getAttribute("data-family")).toBe("attention");
    // The parent names itself as the reason its child waits.
    expect(await card(page, child.id).getByTestId("card-motion-line").textContent()).toContain(parent.id);

    // A moving card carries no line.
    const runningCard = column(page, "running").getByTestId(`card-${job.id}`);
    await runningCard.waitFor();
    expect((await client.tasks.why.query({ board, id: job.id })).moving).toBe(true);
    expect(await runningCard.getByTestId("card-motion").count()).toBe(0);

    // The drawer of the running card: the motion and the liveness panel of the real worker.
    await runningCard.click();
    const panel = page.getByTestId("why-panel");
    await panel.waitFor();
    const why = await client.tasks.why.query({ board, id: job.id });
    await waitUntil(
      async () => (await panel.getAttribute("data-code")) === why.code,
      10_000,
      "the drawer to show the task's motion",
    );
    // A healthy worker's sentence counts its running time, so only its fixed part is compared.
    expect(why.code).toBe("running_healthy");
    const runningLine = `Running as @agent (pid ${running?.worker_pid}) for `;
    expect(why.line.startsWith(runningLine)).toBe(true);
    expect((await panel.getByTestId("why-line").textContent())?.startsWith(runningLine)).toBe(true);
    expect(await panel.getByTestId("why-next").textContent()).toBe(why.next);
    const live = panel.getByTestId("liveness-panel");
    await live.waitFor();
    expect(await live.getByTestId("live-pid").textContent()).toBe(String(running?.worker_pid));
    expect(await live.getByTestId("live-host").textContent()).toBe(os.hostname());
    expect(await live.getByTestId("live-heartbeat").textContent()).toMatch(/^(just now|\d+s ago)$/);
    expect(await live.getByTestId("live-lease").textContent()).toMatch(/^\d+:\d\d(:\d\d)?$/);
    // The worker and its helper process, as the dispatcher sampled them at a tick.
    const procs = live.getByTestId("live-procs");
    await procs.waitFor({ timeout: 15_000 });
    expect(Number.parseInt((await procs.textContent()) ?? "", 10)).toBeGreaterThanOrEqual(2);
    expect(await live.getByTestId("live-rss").textContent()).toMatch(/^\d+(\.\d)? (KiB|MiB|GiB)$/);
    // CPU is a rate between two samples: the first tick of a run has none yet ("—").
    await waitUntil(
      async () => /^\d+(\.\d)?%$/.test((await live.getByTestId("live-cpu").textContent()) ?? ""),
      15_000,
      "a CPU figure from a second sample",
    );
    // The last line the worker logged.
    await waitUntil(
      async () => /steady worker \d+: step \d+ of /.test((await live.getByTestId("live-log-line").textContent()) ?? ""),
      10_000,
      "the worker's last log line",
    );
    await shot(page, "why-liveness");
    noPageErrors(b);
  });
});
