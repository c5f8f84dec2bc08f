import fs from "node:fs";
import path from "node:path";
import { afterEach } from "vitest";
import { waitFor } from "../support/env.ts";
import { ProcessTracker } from "../support/processes.ts";
import { type ClusterOptions, RemoteCluster, type RemoteHost } from "./harness.ts";
import { completionBooks, doubleRuns, taskRuns } from "./ledger.ts";
import type { ScenarioRecorder } from "./report.ts";

/**
 * What every remote scenario file shares: a process tracker and a cluster torn down after each
 * test (SIGKILL of everything it started, proxies closed, temp homes removed), and the checks that
 * end every scenario.
 */
export function remoteScenarios(): { start(options: ClusterOptions): Promise<RemoteCluster> } {
  const procs = new ProcessTracker();
  let cluster: RemoteCluster | null = null;
  afterEach(async (ctx) => {
    if (ctx.task.result?.state === "fail" && cluster !== null) {
      // What the processes said is what explains a failure between processes.
      const s = cluster.server;
      console.log(`--- kanban serve ---\n${`${s?.stdout() ?? ""}${s?.stderr() ?? ""}`.slice(-3000)}`);
      for (const h of cluster.hosts) {
        const workers = h
          .workers()
          .slice(-10)
          .map((r) => JSON.stringify(r));
        console.log(`--- ${h.name} ---\n${h.log().slice(-4000)}\n--- ${h.name} workers ---\n${workers.join("\n")}`);
      }
    }
    // Workers a host started live in their own process groups: adopt them before the sweep.
    for (const h of cluster?.hosts ?? []) h.workers();
    await procs.killAll();
    await cluster?.close();
    // A failure's homes (board file, host outboxes, worker logs) are kept for a look, as are every
    // test's with KANBAN_REMOTE_KEEP=1.
    if ((ctx.task.result?.state === "fail" || process.env.KANBAN_REMOTE_KEEP === "1") && cluster !== null) {
      const s = cluster.server;
      fs.writeFileSync(path.join(cluster.serverHome.outer, "serve.out"), `${s?.stdout() ?? ""}${s?.stderr() ?? ""}`);
      for (const h of cluster.hosts) fs.writeFileSync(path.join(h.home.outer, "dispatcher.out"), h.log());
      console.log(`kept: ${[cluster.serverHome.outer, ...cluster.hosts.map((h) => h.home.outer)].join(" ")}`);
    } else cluster?.cleanup();
    cluster = null;
  });
  return {
    async start(options) {
      cluster = await RemoteCluster.start(procs, options);
      return cluster;
    },
  };
}

/** A small seeded PRNG (mulberry32): a failing schedule can be replayed from its printed seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts every host and waits until each has said hello (its row is on the board, its process was answered). */
export async function startHosts(cluster: RemoteCluster, hosts: readonly RemoteHost[] = cluster.hosts): Promise<void> {
  for (const h of hosts) h.start();
  await waitFor(
    async () => {
      // A restarted host's row is still "connected" from before its crash: only the new process's
      // own line says that it has been answered.
      if (!hosts.every((h) => /connected to /.test(h.log()))) return false;
      const r = await cluster.call("hosts.list", "query", {});
      if (r.status !== 200) return false;
      const listed = (r.json as { result: { data: { hosts: { id: string; connected: boolean }[] } } }).result.data
        .hosts;
      return hosts.every((h) => listed.some((l) => l.id === h.hostId() && l.connected));
    },
    `hosts ${hosts.map((h) => h.name).join(", ")} to say hello`,
    120_000,
    200,
  ).catch((e: Error) => {
    throw new Error(`${e.message}\n${hosts.map((h) => `--- ${h.name} ---\n${h.log().slice(-2000)}`).join("\n")}`);
  });
}

/** Waits until every task is done and every host's outbox is empty. */
export async function drain(cluster: RemoteCluster, tasks: number, timeoutMs: number): Promise<void> {
  const db = () => cluster.reader();
  await waitFor(
    () => {
      const runs = taskRuns(db());
      return (
        runs.length >= tasks &&
        runs.every((t) => t.status === "done") &&
        cluster.hosts.every((h) => h.pending().length === 0)
      );
    },
    `all ${tasks} tasks to be done and every outbox empty`,
    timeoutMs,
    200,
  ).catch((e: Error) => {
    const runs = taskRuns(db());
    const notDone = runs.filter((t) => t.status !== "done").map((t) => `${t.id}:${t.status}`);
    throw new Error(
      `${e.message}; not done: ${notDone.join(" ")}; pending: ${cluster.hosts.map((h) => `${h.name}=${h.pending().length}`).join(" ")}\n` +
        cluster.hosts.map((h) => `--- ${h.name} ---\n${h.log().slice(-3000)}`).join("\n"),
    );
  });
}

/**
 * Secrets that must never be printed: the admin token, every host token, every run token a host
 * minted for its workers (read from their outbox entries). Returns where one was found.
 */
export function tokenLeaks(cluster: RemoteCluster): string[] {
  const secrets = [cluster.adminToken, ...cluster.hosts.map((h) => h.token)];
  for (const h of cluster.hosts) {
    for (const e of [...h.pending(), ...h.delivered()]) {
      const token = (e as unknown as { token?: string }).token;
      if (token) secrets.push(token);
    }
  }
  const texts: [string, string][] = [
    ["server output", `${cluster.server?.stdout() ?? ""}${cluster.server?.stderr() ?? ""}`],
  ];
  for (const h of cluster.hosts) {
    texts.push([`${h.name} output`, h.log()]);
    for (const r of h.workers()) {
      if (r.event === "complete") texts.push([`${h.name} worker CLI output`, `${r.stdout ?? ""}${r.stderr ?? ""}`]);
    }
    for (const file of logFiles(h.home.home)) texts.push([file, fs.readFileSync(file, "utf8")]);
  }
  for (const file of logFiles(cluster.serverHome.home)) texts.push([file, fs.readFileSync(file, "utf8")]);
  const found: string[] = [];
  for (const [where, text] of texts) {
    for (const s of secrets) if (text.includes(s)) found.push(`${where} holds a token (${s.slice(0, 6)}…)`);
  }
  return found;
}

function logFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.log(\.\d+)?$/.test(e.name)) out.push(p);
    }
  };
  walk(dir);
  return out;
}

/**
 * The numbers every scenario reports, computed from the cluster's final state, and written to the
 * report. `reachedEnd`: the scenario's own waits and checks all held (false from a `finally` after a
 * failure, so the report says the scenario failed and still shows what was counted).
 */
export function closeBooks(cluster: RemoteCluster, recorder: ScenarioRecorder, reachedEnd: boolean) {
  const db = cluster.reader();
  const books = completionBooks(db, cluster.hosts);
  const doubles = doubleRuns(db);
  for (const e of books.cliErrors) recorder.notes.push(`worker told failure: ${e}`);
  if (books.unreported > 0) {
    recorder.notes.push(
      `${books.unreported} completions delivered by the host while their worker's CLI was still waiting`,
    );
  }
  const report = recorder.finish({
    made: books.made,
    accepted: books.accepted,
    late: books.late,
    lost: books.lost.length,
    doubles: doubles.length,
    passed: reachedEnd && books.lost.length === 0 && doubles.length === 0,
  });
  return { books, doubles, report };
}
