import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type Database from "better-sqlite3";
import { openReader } from "../support/board-checks.ts";
import { makeHome, type TempHome, waitFor } from "../support/env.ts";
import { isPidAlive, type ProcessTracker, type Started } from "../support/processes.ts";
import { KANBAN_BIN } from "../support/kanban-serve.ts";
import { callProcedure, dataOf, type HttpResult, type ProcedureType } from "../support/trpc-http.ts";
import { TcpProxy } from "./tcp-proxy.ts";

/**
 * A server and its remote hosts as separate real processes, the way issue 15 deploys them:
 * - one `kanban serve` on a SQLite board in its own home (admin token set, host tokens in its
 *   config.json), SIGKILLable and restartable on the same port;
 * - per host, a `kanban-dispatcher --server <proxy url> --token <host token> --labels …` in its OWN
 *   home, which holds no board file and is not told where the server's is; between it and the
 *   server, a {@link TcpProxy} of its own, so a test can cut one host's network and keep the other's;
 * - workers: `fake-worker.mjs`, which completes through the real CLI with the environment the host
 *   gives it.
 * The test itself talks to the server directly (admin token, never through a proxy) and reads the
 * board file as an observer; that is how it checks what the hosts cannot see.
 */
export const DISPATCHER_BIN = fileURLToPath(
  new URL("../../../../packages/dispatcher/bin/kanban-dispatcher.mjs", import.meta.url),
);
export const FAKE_WORKER = fileURLToPath(new URL("./fake-worker.mjs", import.meta.url));
/** The profile (assignee) every host runs `fake-worker.mjs` for. */
export const PROFILE = "fake";

export interface HostSpec {
  name: string;
  labels: string[];
  capacity: number;
  /** Bind the host token to a tenant. */
  tenant?: string;
  /** Extra environment of this host's workers (FAKE_MIN_MS, FAKE_MAX_MS, FAKE_HANG…). */
  workerEnv?: Record<string, string>;
}

export interface ClusterOptions {
  hosts: HostSpec[];
  /** `kanban.host_lease_seconds` of the server. */
  leaseSeconds: number;
  /** More `kanban` settings of the server's config.json. */
  serverKanban?: Record<string, unknown>;
}

/** One line of a fake worker's record file (fake-worker.mjs). */
export interface FakeRecord {
  event: "start" | "hang" | "cli" | "complete" | "exit";
  pid: number;
  host: string | null;
  task: string;
  run: number;
  at: number;
  url?: string | null;
  outbox?: string | null;
  tree?: number[];
  exit?: number | null;
  signal?: string | null;
  stdout?: string;
  stderr?: string;
}

export function readFakeRecords(file: string): FakeRecord[] {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    return [];
  }
  return text.split("\n").flatMap((line) => {
    if (line.trim() === "") return [];
    try {
      return [JSON.parse(line) as FakeRecord];
    } catch {
      return []; // the torn last line of a killed worker
    }
  });
}

/** A JSON outbox entry as the test reads it off a host's disk (pending or delivered). */
export interface OutboxFile {
  file: string;
  verb: string;
  run_id: number;
  task_id: string;
  answer?: { ok: boolean; code?: string; replayed?: boolean; message?: string };
}

function readJsonDir(dir: string): OutboxFile[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => n.endsWith(".json"))
    .flatMap((n) => {
      try {
        return [{ file: n, ...(JSON.parse(fs.readFileSync(path.join(dir, n), "utf8")) as Omit<OutboxFile, "file">) }];
      } catch {
        return []; // renamed away between readdir and read
      }
    });
}

export class RemoteHost {
  readonly token = `host-${randomBytes(16).toString("hex")}`;
  readonly record: string;
  process: Started | null = null;
  /** Every pid this host ever ran as (for the /proc checks). */
  readonly pids: number[] = [];

  constructor(
    readonly spec: HostSpec,
    readonly home: TempHome,
    readonly proxy: TcpProxy,
    private readonly procs: ProcessTracker,
  ) {
    this.record = path.join(home.outer, "workers.jsonl");
    home.writeConfig({
      kanban: { dispatch_interval_seconds: 1, terminate_grace_seconds: 1 },
      profiles: {
        [PROFILE]: {
          command: [process.execPath, FAKE_WORKER],
          env: {
            FAKE_RECORD: this.record,
            FAKE_HOST: spec.name,
            FAKE_KANBAN_BIN: KANBAN_BIN,
            FAKE_MIN_MS: "300",
            FAKE_MAX_MS: "1500",
            ...spec.workerEnv,
          },
        },
      },
    });
  }

  get name(): string {
    return this.spec.name;
  }

  /** `<home>/kanban/outbox`: where this host's workers queue their terminal calls. */
  get outbox(): string {
    return path.join(this.home.home, "kanban", "outbox");
  }

  /** The host id it keeps on disk (`<home>/kanban/host.json`), null before its first start. */
  hostId(): string | null {
    try {
      const raw = JSON.parse(fs.readFileSync(path.join(this.home.home, "kanban", "host.json"), "utf8")) as {
        host_id?: string;
      };
      return raw.host_id ?? null;
    } catch {
      return null;
    }
  }

  start(): Started {
    const args = [
      DISPATCHER_BIN,
      "--server",
      this.proxy.url,
      "--token",
      this.token,
      "--max-workers",
      String(this.spec.capacity),
    ];
    if (this.spec.labels.length > 0) args.push("--labels", this.spec.labels.join(","));
    this.process = this.procs.startNode(args, { env: this.home.env, cwd: this.home.outer });
    this.pids.push(this.process.pid);
    return this.process;
  }

  async kill(): Promise<void> {
    const p = this.process;
    if (p === null) return;
    process.kill(p.pid, "SIGKILL");
    await p.exited;
    this.process = null;
  }

  workers(): FakeRecord[] {
    const records = readFakeRecords(this.record);
    for (const r of records) if (r.event === "start") this.procs.adoptPid(r.pid);
    return records;
  }

  /** Workers of this host alive right now (their start record, a live pid that is still a fake worker). */
  liveWorkers(): FakeRecord[] {
    return this.workers().filter((r) => r.event === "start" && isFakeWorker(r.pid));
  }

  pending(): OutboxFile[] {
    return readJsonDir(this.outbox);
  }

  delivered(): OutboxFile[] {
    return readJsonDir(path.join(this.outbox, "delivered"));
  }

  /** The host's output so far (for failure messages; never holds a token, which the test checks). */
  log(): string {
    return `${this.process?.stdout() ?? ""}${this.process?.stderr() ?? ""}`;
  }
}

/** Whether `pid` is a live process running fake-worker.mjs (pids get reused; zombies are dead). */
export function isFakeWorker(pid: number): boolean {
  if (!isPidAlive(pid)) return false;
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("fake-worker.mjs");
  } catch {
    return false;
  }
}

export class RemoteCluster {
  readonly adminToken = `admin-${randomBytes(16).toString("hex")}`;
  readonly serverHome: TempHome;
  readonly hosts: RemoteHost[] = [];
  server: Started | null = null;
  port = 0;
  private db: Database.Database | null = null;

  private constructor(
    private readonly procs: ProcessTracker,
    readonly options: ClusterOptions,
  ) {
    this.serverHome = makeHome("remote-server");
  }

  static async start(procs: ProcessTracker, options: ClusterOptions): Promise<RemoteCluster> {
    const cluster = new RemoteCluster(procs, options);
    // Hosts (and their tokens) first, so the server starts with its final config.json; the proxies
    // learn the server's port once it listens.
    for (const spec of options.hosts) {
      const proxy = await TcpProxy.start({ port: 1 });
      cluster.hosts.push(new RemoteHost(spec, makeHome(`remote-${spec.name}`), proxy, procs));
    }
    cluster.writeServerConfig();
    await cluster.startServer();
    for (const h of cluster.hosts) h.proxy.retarget(cluster.port);
    return cluster;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get dbPath(): string {
    return path.join(this.serverHome.home, "kanban.db");
  }

  host(name: string): RemoteHost {
    const h = this.hosts.find((x) => x.name === name);
    if (!h) throw new Error(`no host ${name}`);
    return h;
  }

  /** The server's config.json: host tokens of every host, the lease and the test's settings. */
  writeServerConfig(): void {
    const hostTokens: Record<string, { name: string; tenant?: string }> = {};
    for (const h of this.hosts) {
      hostTokens[h.token] = { name: h.name, ...(h.spec.tenant ? { tenant: h.spec.tenant } : {}) };
    }
    this.serverHome.writeConfig({
      host_tokens: hostTokens,
      kanban: {
        host_lease_seconds: this.options.leaseSeconds,
        // Reclaims this suite provokes on purpose must not trip the breaker.
        failure_limit: 100,
        ...this.options.serverKanban,
      },
    });
  }

  /** Starts `kanban serve` (on the port it had before, after a restart) and waits until it answers. */
  async startServer(timeoutMs = 60_000): Promise<void> {
    const env = { ...this.serverHome.env, KANBAN_TOKEN: this.adminToken };
    const started = this.procs.startNode([KANBAN_BIN, "serve", "--port", String(this.port)], { env });
    let exited = false;
    void started.exited.then(() => {
      exited = true;
    });
    const url = await waitFor(
      () => {
        if (exited) throw new Error(`kanban serve exited before listening: ${started.stderr()}`);
        return /Serving the kanban API at (http:\/\/\S+?)\/trpc/.exec(started.stdout())?.[1];
      },
      "kanban serve to listen",
      timeoutMs,
      25,
    );
    this.port = Number(new URL(url).port);
    this.server = started;
  }

  async killServer(): Promise<void> {
    const s = this.server;
    if (s === null) return;
    process.kill(s.pid, "SIGKILL");
    await s.exited;
    this.server = null;
  }

  /** Calls a procedure directly on the server (no proxy) with `token` (admin by default). */
  async call(
    procedure: string,
    type: ProcedureType,
    input: unknown,
    token: string | null = this.adminToken,
  ): Promise<HttpResult> {
    return callWithToken(this.url, procedure, type, input, token);
  }

  async createTask(input: { title: string; requires?: string[]; assignee?: string }): Promise<string> {
    const r = await this.call("tasks.create", "mutation", { assignee: PROFILE, ...input });
    return dataOf<{ task: { id: string } }>(r).task.id;
  }

  /** The observer's read connection to the server's board file (never given to a host). */
  reader(): Database.Database {
    this.db ??= openReader(this.dbPath);
    return this.db;
  }

  /**
   * Every host process and worker's open files, checked against the server's home: a host holds no
   * descriptor into it (no board file, no WAL). Returns the offending `/proc/<pid>/fd` links.
   */
  hostFilesIntoServerHome(): string[] {
    const pids = new Set<number>();
    for (const h of this.hosts) {
      for (const p of h.pids) pids.add(p);
      for (const r of h.workers()) pids.add(r.pid);
    }
    const bad: string[] = [];
    for (const pid of pids) {
      let fds: string[];
      try {
        fds = fs.readdirSync(`/proc/${pid}/fd`);
      } catch {
        continue; // gone
      }
      for (const fd of fds) {
        try {
          const target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
          if (target.startsWith(this.serverHome.home)) bad.push(`${pid}: ${target}`);
        } catch {
          // closed meanwhile
        }
      }
    }
    return bad;
  }

  async close(): Promise<void> {
    this.db?.close();
    this.db = null;
    for (const h of this.hosts) await h.proxy.close();
  }

  cleanup(): void {
    this.serverHome.cleanup();
    for (const h of this.hosts) h.home.cleanup();
  }
}

/** A procedure call with a bearer token (the suite's `callProcedure` sends none). */
export async function callWithToken(
  base: string,
  procedure: string,
  type: ProcedureType,
  input: unknown,
  token: string | null,
  timeoutMs = 15_000,
): Promise<HttpResult> {
  if (token === null) return callProcedure(base, procedure, type, input, timeoutMs);
  const url = new URL(`${base}/trpc/${procedure}`);
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  const init: RequestInit = { headers, signal: AbortSignal.timeout(timeoutMs) };
  if (type === "mutation") {
    init.method = "POST";
    headers["content-type"] = "application/json";
    init.body = JSON.stringify(input ?? {});
  } else if (input !== undefined) {
    url.searchParams.set("input", JSON.stringify(input));
  }
  const res = await fetch(url, init);
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, contentType: res.headers.get("content-type") ?? "", text, json };
}
