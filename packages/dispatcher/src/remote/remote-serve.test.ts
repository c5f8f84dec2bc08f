import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseOutboxEntry, sendOutboxEntry } from "@kanban/contract/outbox";
import { afterEach, describe, expect, it } from "vitest";
import { type BinRun, killAll, makeHome, startBin, type TestHome, track, waitFor } from "../../test/helpers.ts";
import { hostRunsDir } from "./host-runs.ts";

/**
 * A remote host against the real server, all real processes on loopback: `kanban serve` on an
 * SQLite board in its own home, `kanban-dispatcher --server` in another home (no board file), and a
 * worker that settles its task with the real `kanban complete` through the completion outbox.
 */
const HOST_TOKEN = "host-token-remote-serve-0123456789";
const KANBAN_BIN = fileURLToPath(new URL("../../../../apps/cli/bin/kanban.mjs", import.meta.url));
const REMOTE_WORKER = fileURLToPath(new URL("../../test/remote-worker.mjs", import.meta.url));

const homes: TestHome[] = [];
const servers: ChildProcess[] = [];

afterEach(async () => {
  for (const s of servers) if (s.exitCode === null && s.signalCode === null) s.kill("SIGKILL");
  servers.length = 0;
  await killAll();
  for (const h of homes) h.cleanup();
  homes.length = 0;
});

interface Serve {
  child: ChildProcess;
  url: string;
  port: number;
  output: () => string;
  exited: Promise<void>;
}

/** `kanban serve --port <port>` on `home`, once it listens. */
async function serve(home: TestHome, port = 0): Promise<Serve> {
  const child = spawn(process.execPath, [KANBAN_BIN, "serve", "--port", String(port)], {
    env: home.env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  servers.push(child);
  track(child.pid);
  let out = "";
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  const url = await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`kanban serve exited: ${out}`);
      return /Serving the kanban API at (http:\/\/\S+?)\/trpc/.exec(out)?.[1];
    },
    "kanban serve to listen",
    30_000,
  );
  return { child, url, port: Number(new URL(url).port), output: () => out, exited };
}

describe("remote host with a real kanban serve", { timeout: 120_000 }, () => {
  it("a completion made while the server is down reaches it once it is back: one completed run, no crash", async () => {
    const server = makeHome({ host_tokens: { [HOST_TOKEN]: { name: "mac-1" } } });
    homes.push(server);
    const board = server.board();
    const task = await board.createTask({ title: "remote job", assignee: "carol", requires: ["macos"] });
    let api = await serve(server);

    const host = makeHome({
      profiles: { carol: { command: [process.execPath, REMOTE_WORKER, "wait-complete"], env: {}, skills: [] } },
    });
    homes.push(host);
    const go = path.join(host.home, "go");
    const record = path.join(host.home, "remote-record.jsonl");
    const h: BinRun = startBin(["--server", api.url, "--labels", "macos,xcode"], {
      ...host.env,
      KANBAN_HOST_TOKEN: HOST_TOKEN,
      KANBAN_DISPATCH_INTERVAL: "0.2",
      REMOTE_WORKER_GO: go,
      REMOTE_WORKER_RECORD: record,
    });

    // Claimed by the host (the only one with the label) and spawned: the server knows the worker's pid.
    const run = await waitFor(
      async () => (await board.listRuns(task.id)).find((r) => r.worker_pid !== null),
      "the host to claim and spawn",
      40_000,
    );
    expect(run.claim_lock).toMatch(/^kh-[0-9a-f]{16}:\d+$/);
    track(run.worker_pid);
    // The host has no board file of its own.
    expect(fs.existsSync(path.join(host.home, "kanban", "boards"))).toBe(false);

    // The server goes away; the worker completes meanwhile.
    api.child.kill("SIGKILL");
    await api.exited;
    fs.writeFileSync(go, "");
    const rec = await waitFor(
      () => {
        try {
          return JSON.parse(fs.readFileSync(record, "utf8").split("\n")[0] ?? "") as {
            cli: { code: number; stdout: string };
          };
        } catch {
          return null;
        }
      },
      "the worker's kanban complete",
      30_000,
    );
    expect(rec.cli).toMatchObject({ code: 0, stdout: "queued: the host delivers it when the server answers\n" });
    // Written before it was sent: still there, pending, since nothing answered.
    const pending = path.join(host.home, "kanban", "outbox", `${run.id}-complete.json`);
    expect(fs.existsSync(pending)).toBe(true);
    expect((await board.requireTask(task.id)).status).toBe("running");

    // The host has found the server gone (its next poll failed) before it comes back: with a quick
    // worker the server could return within one poll interval, and the host would never see it down.
    await waitFor(() => /disconnected from/.test(h.stderr()), "the host to notice that the server is down", 30_000);
    // Back on the same port: the host re-sends it.
    api = await serve(server, api.port);
    await waitFor(async () => (await board.requireTask(task.id)).status === "done", "the task to be done", 60_000);
    await waitFor(() => !fs.existsSync(pending), "the outbox entry to be delivered", 20_000);
    await waitFor(() => fs.readdirSync(hostRunsDir(host.home)).length === 0, "the host to forget the run", 20_000);

    const events = await board.listEvents(task.id);
    expect(events.filter((e) => e.kind === "completed")).toHaveLength(1);
    expect(events.filter((e) => e.kind === "crashed")).toHaveLength(0);
    const runs = await board.listRuns(task.id);
    expect(runs.map((r) => r.outcome)).toEqual(["completed"]);
    const delivered = JSON.parse(
      fs.readFileSync(path.join(host.home, "kanban", "outbox", "delivered", `${run.id}-complete.json`), "utf8"),
    );
    expect(delivered.answer.ok).toBe(true);
    // A re-send of the same call (a host that crashed before moving the entry) is the same answer, nothing new.
    expect(await sendOutboxEntry(parseOutboxEntry(delivered))).toEqual({
      state: "delivered",
      answer: { ok: true, replayed: true },
    });
    expect((await board.listEvents(task.id)).filter((e) => e.kind === "completed")).toHaveLength(1);

    h.child.kill("SIGTERM");
    await h.exited;
    const log = h.stderr();
    expect(log).toMatch(/disconnected from http:\/\/127\.0\.0\.1:\d+/);
    expect(log).toMatch(/reconnected to http:\/\/127\.0\.0\.1:\d+ after \d+ s/);
    expect(log).not.toContain(HOST_TOKEN);
    expect(api.output()).not.toContain(HOST_TOKEN);
    expect(log).not.toContain("kbr1.");
  });
});
