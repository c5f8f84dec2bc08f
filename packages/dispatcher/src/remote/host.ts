import fs from "node:fs";
import path from "node:path";
import {
  deliveredEntriesOf,
  deliverOutboxEntry,
  listPendingEntries,
  type OutboxFetch,
  pendingEntriesOf,
  pruneDelivered,
} from "@kanban/contract/outbox";
import { logsDir, workspacesRoot } from "@kanban/db";
import { type Clock, type ExitStatus, nowSeconds, systemClock, type Task } from "@kanban/kernel";
import { isPidAlive, processStartTime, runMarkerEnv, stopRunTree } from "@kanban/process";
import { allowedRootsFor, cleanupScratch, resolveWorkspace } from "@kanban/workspace";
import type { DispatcherConfig, RemoteSettings } from "../config.ts";
import { buildWorkerArgv, buildWorkerEnv, isSpawnable, WorkerPool } from "../worker.ts";
import { Backoff } from "./backoff.ts";
import { loadOrCreateHostId } from "./host-identity.ts";
import { type HostRun, loadHostRuns, removeHostRun, saveHostRun } from "./host-runs.ts";
import { RemoteApi, RemoteCallError, type RemoteFetch } from "./rpc.ts";
import { readLogTail } from "../log-tail.ts";
import { redactSecrets } from "@kanban/contract";
import { workerSecrets } from "../worker-secrets.ts";

/**
 * A remote host (`kanban-dispatcher --server <url>`, issue 15): a dispatcher with no board file.
 * Everything it knows of the board comes through the server's `hosts.*` procedures, called with its
 * host token:
 *
 * - `hello` (at start and after every reconnection) with the runs it remembers
 *   (`<home>/kanban/host-runs/`): the server renews those still its own and names the others
 *   (`revoked`), whose process trees are stopped (`stopRunTree` by the run marker) and reported
 *   (`hosts.stopped`) before anything new is claimed;
 * - `heartbeat` every `heartbeat_seconds` renews the leases of all its runs at once (and answers
 *   `revoked` the same way: a cancelled or reclaimed run's worker is stopped);
 * - `claim` when below capacity; each claim carries a run token minted by the server for that run
 *   alone, which is the only token its worker gets (never the host token);
 * - the outbox (`<home>/kanban/outbox`, `@kanban/contract/outbox`): terminal calls its workers wrote
 *   but could not deliver are re-sent until the server answers;
 * - a worker's exit: while its run still has a pending outbox entry the run is kept (and renewed);
 *   then, unless a terminal call was accepted, `hosts.exited` (the server's crash path).
 *
 * Network trouble is retried with backoff (1 s → 30 s, jitter) and logged once per state change;
 * the token is in no log line, error or worker environment.
 */

/** A claim as `hosts.claim` answers it. */
export interface RemoteClaim {
  task: RemoteTask;
  run_id: number;
  run_token: string;
  board: string;
  board_key: string;
  lease_seconds: number;
}

/** The task fields a host uses (the API's TaskDto has them all). */
export type RemoteTask = Pick<
  Task,
  | "id"
  | "assignee"
  | "tenant"
  | "skills"
  | "model_override"
  | "max_runtime_seconds"
  | "workspace_kind"
  | "workspace_path"
>;

interface Revoked {
  run_id: number;
  task_id: string | null;
}

type Phase = "running" | "exited" | "stopping";

interface RunState extends HostRun {
  phase: Phase;
  /** A worker started by this process (its exit arrives from the pool); else adopted, watched by pid. */
  child: boolean;
  /** The server said the run is no longer ours: nothing is reported for it but its stop. */
  revoked: boolean;
}

/** A report still to make (the server was unreachable when it was first tried). */
interface Report {
  procedure: "hosts.spawned" | "hosts.stopped";
  input: Record<string, unknown>;
}

/** The server refused the host's very first call (a wrong host token). */
export class HostRefusedError extends Error {
  override readonly name = "HostRefusedError";
}

export interface RemoteHostDeps {
  clock?: Clock;
  /** Used for every call (the `hosts.*` procedures and outbox re-sends). Default: the global fetch. */
  fetch?: RemoteFetch;
  /** One line each, no prefix (the CLI adds `kanban-dispatcher: `). */
  log?: (line: string) => void;
  /** How often the loop wakes between heartbeats (default 1000 ms). */
  pollMs?: number;
  random?: () => number;
}

const OUTPUT_TAIL_BYTES = 8 * 1024;
const MAX_CLAIM = 16;
/** How long the CLI's own send of a fresh outbox entry may take (its timeout), before the host re-sends. */
const CLI_SEND_SECONDS = 20;
/** Delivered outbox entries are kept this long (a record for a person), then pruned. */
const DELIVERED_KEEP_SECONDS = 7 * 24 * 3600;

function oneLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split("\n")[0] ?? msg;
}

function hostVersion(): string {
  try {
    const pkg = JSON.parse(fs.readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
      version?: string;
    };
    return `kanban-dispatcher ${pkg.version ?? "?"}`;
  } catch {
    return "kanban-dispatcher";
  }
}

/** The last bytes of a worker's log, for the crash report. */
function tailOf(file: string | null, secrets: readonly string[]): string | null {
  return file === null ? null : readLogTail(file, OUTPUT_TAIL_BYTES, secrets);
}

export class RemoteHost {
  readonly hostId: string;
  readonly outboxDir: string;
  private readonly api: RemoteApi;
  private readonly clock: Clock;
  private readonly log: (line: string) => void;
  private readonly fetchImpl: RemoteFetch;
  private readonly pollMs: number;
  private readonly pool: WorkerPool;
  private readonly runs = new Map<number, RunState>();
  private readonly reports: Report[] = [];
  private readonly stops = new Set<Promise<void>>();
  private readonly backoff: Backoff;
  private readonly outboxBackoff: Backoff;
  private outboxNextAt = 0;
  private pruneAt = 0;
  private readonly badEntries = new Set<string>();
  private helloDone = false;
  private everConnected = false;
  /** The first successful hello was logged. */
  private announced = false;
  /** Since when calls fail (ms of the clock); null while connected. */
  private downSince: number | null = null;
  private leaseSeconds = 30;
  private heartbeatSeconds = 10;
  private lastBeatAt = 0;
  private nextClaimAt = 0;
  private stopped = false;
  private wakeUp: (() => void) | null = null;

  constructor(
    private readonly config: DispatcherConfig,
    private readonly remote: RemoteSettings,
    deps: RemoteHostDeps = {},
  ) {
    this.clock = deps.clock ?? systemClock;
    this.log = deps.log ?? (() => {});
    this.fetchImpl = deps.fetch ?? (globalThis.fetch as unknown as RemoteFetch);
    this.pollMs = deps.pollMs ?? 1000;
    this.backoff = new Backoff(1000, 30_000, deps.random);
    this.outboxBackoff = new Backoff(1000, 30_000, deps.random);
    this.hostId = loadOrCreateHostId(config.home);
    this.outboxDir = path.join(config.home, "kanban", "outbox");
    this.api = new RemoteApi(remote.trpcUrl, remote.token, this.fetchImpl);
    this.pool = new WorkerPool(this.log, this.clock);
    this.pool.onExit((w, status) => this.onWorkerExit(w.run_id, status));
  }

  /** Runs until {@link stop}. Workers keep running after it (a restarted host adopts them). */
  async run(): Promise<void> {
    this.loadRuns();
    this.log(
      `remote host ${this.hostId} for ${this.remote.server} (labels: ${this.remote.labels.join(", ") || "none"}; up to ${this.remote.capacity} workers; pid ${this.config.pid})`,
    );
    while (!this.stopped) {
      let delay = this.pollMs;
      try {
        await this.cycle();
        this.backoff.reset();
      } catch (err) {
        if (this.stopped) break;
        // A token the server never accepted is a configuration mistake: say so and stop, rather
        // than retry for ever (once connected, a refusal is retried: the server's config may be mid-edit).
        if (this.refusedAtStart(err))
          throw new HostRefusedError(
            `the server refused this host (${(err as RemoteCallError).code}): check the host token (--token, KANBAN_HOST_TOKEN or remote.token) against the server's config.json host_tokens`,
          );
        delay = this.onFailure(err);
      }
      await this.sleep(delay);
    }
    await Promise.all([...this.stops]);
  }

  stop(): void {
    this.stopped = true;
    this.wakeUp?.();
  }

  /** The runs this host holds now (for tests and the status line). */
  heldRuns(): { run_id: number; task_id: string; phase: Phase; pid: number | null }[] {
    return [...this.runs.values()].map((r) => ({ run_id: r.run_id, task_id: r.task_id, phase: r.phase, pid: r.pid }));
  }

  /** Calls that failed in a row since the server was last reached (0 while connected). */
  failuresInARow(): number {
    return this.backoff.attempts;
  }

  /** Waits for the stops under way (their reports are made by later cycles). */
  async drain(): Promise<void> {
    while (this.stops.size > 0) await Promise.all([...this.stops]);
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = () => {
        this.wakeUp = null;
        done();
      };
    });
  }

  private now(): number {
    return nowSeconds(this.clock);
  }

  /** The runs remembered on disk: adopted (their worker is watched) or waiting to be reported. */
  private loadRuns(): void {
    for (const r of loadHostRuns(this.config.home, (f) => this.log(`warning: ${f} is unreadable; left as it is`))) {
      const alive = r.pid !== null && this.sameProcess(r.pid, r.start_time);
      this.runs.set(r.run_id, { ...r, phase: alive ? "running" : "exited", child: false, revoked: false });
      if (alive) this.log(`run ${r.run_id} of ${r.task_id}: worker pid ${r.pid} still runs; adopted`);
    }
  }

  private sameProcess(pid: number, startTime: string | null): boolean {
    if (!isPidAlive(pid)) return false;
    const now = processStartTime(pid);
    return startTime === null || now === null || now === startTime;
  }

  private async call<T>(procedure: string, input: Record<string, unknown>): Promise<T> {
    const out = await this.api.mutate<T>(procedure, input);
    this.onReached();
    return out;
  }

  private onReached(): void {
    if (this.downSince !== null) {
      const secs = Math.round((this.clock.now() - this.downSince) / 1000);
      this.log(`reconnected to ${this.remote.server} after ${secs} s`);
      this.downSince = null;
    }
    this.everConnected = true;
  }

  /** One line per state change; returns how long to wait before the next attempt. */
  private onFailure(err: unknown): number {
    if (err instanceof RemoteCallError && err.kind === "refused") {
      // The host is unknown to the server (its database was replaced, or it never said hello): hello again.
      if (err.code === "NOT_FOUND" && this.helloDone) {
        this.helloDone = false;
        return 0;
      }
      if (this.downSince === null) {
        this.downSince = this.clock.now();
        this.log(`the server refused the host: ${oneLine(err)}; retrying with backoff`);
      }
      this.helloDone = false;
      return this.backoff.next();
    }
    if (err instanceof RemoteCallError) {
      if (this.downSince === null) {
        this.downSince = this.clock.now();
        this.log(
          `disconnected from ${this.remote.server}: ${oneLine(err)}; retrying with backoff (1 s to ${Math.round(this.backoff.ceilingMs / 1000)} s)`,
        );
      }
      // Whatever happened meanwhile (a server restart, our runs reclaimed), a hello settles it.
      this.helloDone = false;
      return this.backoff.next();
    }
    this.log(`error: ${oneLine(err)}`);
    return this.backoff.next();
  }

  /** True when the first hello was refused for the token itself (the CLI exits on it). */
  private refusedAtStart(err: unknown): boolean {
    return (
      !this.everConnected &&
      err instanceof RemoteCallError &&
      err.kind === "refused" &&
      (err.code === "UNAUTHORIZED" || err.code === "FORBIDDEN")
    );
  }

  private async cycle(): Promise<void> {
    const now = this.clock.now();
    if (!this.helloDone) await this.hello();
    else if (now - this.lastBeatAt >= this.heartbeatSeconds * 1000) await this.heartbeat();
    this.watchAdopted();
    await this.flushReports();
    await this.flushOutbox();
    await this.settleExits();
    if (this.live() < this.remote.capacity && now >= this.nextClaimAt && !this.stopped) await this.claimAndSpawn();
  }

  private runIds(): number[] {
    return [...this.runs.values()].filter((r) => !r.revoked).map((r) => r.run_id);
  }

  /** Workers that hold a slot: running, or being stopped. */
  private live(): number {
    return [...this.runs.values()].filter((r) => r.phase !== "exited").length;
  }

  private async hello(): Promise<void> {
    const answer = await this.call<{ lease_seconds: number; heartbeat_seconds: number; revoked: Revoked[] }>(
      "hosts.hello",
      {
        host_id: this.hostId,
        name: this.config.hostname.slice(0, 64),
        labels: this.remote.labels,
        version: hostVersion(),
        capacity: this.remote.capacity,
        runs: this.runIds(),
      },
    );
    this.leaseSeconds = answer.lease_seconds;
    this.heartbeatSeconds = Math.max(1, answer.heartbeat_seconds);
    this.backoff.capAt(this.heartbeatSeconds * 1000);
    this.outboxBackoff.capAt(this.heartbeatSeconds * 1000);
    this.lastBeatAt = this.clock.now();
    if (!this.announced) {
      this.log(
        `connected to ${this.remote.server} (lease ${this.leaseSeconds} s, heartbeat every ${this.heartbeatSeconds} s)`,
      );
      this.announced = true;
    }
    this.helloDone = true;
    this.revoke(answer.revoked);
  }

  private async heartbeat(): Promise<void> {
    const answer = await this.call<{ lease_seconds: number; revoked: Revoked[] }>("hosts.heartbeat", {
      host_id: this.hostId,
      running: this.live(),
      runs: this.runIds(),
    });
    this.leaseSeconds = answer.lease_seconds;
    this.lastBeatAt = this.clock.now();
    this.revoke(answer.revoked);
  }

  /** Runs the server says are no longer ours: their trees are stopped, nothing else is reported for them. */
  private revoke(revoked: readonly Revoked[]): void {
    for (const { run_id } of revoked) {
      const run = this.runs.get(run_id);
      if (run === undefined || run.revoked) continue;
      run.revoked = true;
      if (run.phase === "running") {
        this.log(`run ${run_id} of ${run.task_id} is no longer this host's: stopping its worker`);
        this.stopRun(run);
      } else {
        this.forget(run);
      }
    }
  }

  private stopRun(run: RunState): void {
    run.phase = "stopping";
    const groups = run.pid !== null && this.sameProcess(run.pid, run.start_time) ? [run.pid] : [];
    const done = stopRunTree(
      { groups, identity: { runId: run.run_id, boardKey: run.board_key } },
      { graceMs: this.config.settings.terminateGraceSeconds * 1000, log: this.log },
    )
      .then((report) => {
        if (report.pids.length > 0) {
          this.log(
            `run ${run.run_id} of ${run.task_id}: stopped ${report.pids.length} process(es)${report.killed.length > 0 ? `, ${report.killed.length} with SIGKILL` : ""}`,
          );
          this.reports.push({
            procedure: "hosts.stopped",
            input: {
              host_id: this.hostId,
              run_id: run.run_id,
              pids: report.pids,
              killed: report.killed,
              sigkill: report.killed.length > 0,
            },
          });
        }
        run.phase = "exited";
        this.forget(run);
      })
      .catch((err: unknown) => {
        this.log(`run ${run.run_id}: stopping its worker failed: ${oneLine(err)}`);
        run.phase = "running";
        run.revoked = false;
      })
      .finally(() => {
        this.stops.delete(done);
        this.wakeUp?.();
      });
    this.stops.add(done);
  }

  private forget(run: RunState): void {
    this.runs.delete(run.run_id);
    this.nextClaimAt = 0;
    removeHostRun(this.config.home, run.run_id);
  }

  private onWorkerExit(runId: number, status: ExitStatus): void {
    // A stopped host's workers run on for the next host process, which adopts them and watches
    // their exits itself: a record written now could bring back a run that host already settled.
    if (this.stopped) return;
    const run = this.runs.get(runId);
    if (run === undefined || run.phase === "exited") return;
    if (run.phase === "stopping") return; // its stop finishes the run
    run.phase = "exited";
    run.exit = { code: status.code, signal: status.signal };
    saveHostRun(this.config.home, this.record(run));
    this.wakeUp?.();
  }

  /** Adopted workers (a previous process's children) are watched by pid. */
  private watchAdopted(): void {
    for (const run of this.runs.values()) {
      if (run.child || run.phase !== "running" || run.pid === null) continue;
      if (!this.sameProcess(run.pid, run.start_time)) {
        run.phase = "exited";
        this.log(`run ${run.run_id} of ${run.task_id}: adopted worker pid ${run.pid} has exited`);
      }
    }
  }

  private async flushReports(): Promise<void> {
    while (this.reports.length > 0) {
      const r = this.reports[0] as Report;
      try {
        await this.call(r.procedure, r.input);
      } catch (err) {
        if (!(err instanceof RemoteCallError) || err.kind !== "refused") throw err;
        this.log(`${r.procedure} for run ${String(r.input.run_id)} refused: ${oneLine(err)}`);
      }
      this.reports.shift();
    }
  }

  /** Re-sends the outbox's pending terminal calls; stops at the first one the server did not answer. */
  private async flushOutbox(): Promise<void> {
    if (this.clock.now() >= this.pruneAt) {
      this.pruneAt = this.clock.now() + 3600_000;
      pruneDelivered(this.outboxDir, DELIVERED_KEEP_SECONDS, this.now());
    }
    if (this.clock.now() < this.outboxNextAt) return;
    const pending = listPendingEntries(this.outboxDir, (f) => {
      // Once per file, not at every pass.
      if (this.badEntries.has(f)) return;
      this.badEntries.add(f);
      this.log(`warning: outbox entry ${path.basename(f)} is unreadable; left as it is (never sent)`);
    });
    for (const { entry } of pending) {
      // The worker's own `kanban complete` sends it once right after writing it: while that worker
      // still runs (and for a fresh entry of a run we do not hold), its send is left to finish first.
      const run = this.runs.get(entry.run_id);
      const fresh = this.now() - entry.created_at < CLI_SEND_SECONDS;
      if (fresh && (run === undefined ? true : run.phase === "running")) continue;
      const result = await deliverOutboxEntry(this.outboxDir, entry, {
        fetch: this.fetchImpl as unknown as OutboxFetch,
        now: () => this.now(),
      });
      if (result.state === "pending") {
        this.outboxNextAt = this.clock.now() + this.outboxBackoff.next();
        return;
      }
      this.outboxBackoff.reset();
      const a = result.answer;
      this.log(
        `outbox: ${entry.verb} of ${entry.task_id} (run ${entry.run_id}) delivered${a.ok ? (a.replayed ? " (already recorded)" : "") : `, refused: ${a.code}: ${a.message}`}`,
      );
    }
  }

  /** Exited workers: once their outbox is delivered, the server hears of an exit without a terminal call. */
  private async settleExits(): Promise<void> {
    for (const run of [...this.runs.values()]) {
      if (run.phase !== "exited") continue;
      if (run.revoked) {
        this.forget(run);
        continue;
      }
      // A terminal call still on its way: the run is kept (and its lease renewed) until it is delivered.
      if (pendingEntriesOf(this.outboxDir, run.run_id).length > 0) continue;
      const accepted = deliveredEntriesOf(this.outboxDir, run.run_id).filter((d) => d.answer.ok);
      if (accepted.length > 0) {
        // Done on the board: its scratch directory (only `<root>/<task id>`, the rule's own) goes, as locally.
        if (accepted.some((d) => d.verb === "complete"))
          cleanupScratch(
            { id: run.task_id, workspace_kind: run.workspace_kind ?? "scratch" },
            { location: this.config.location, board: run.board },
          );
        this.forget(run);
        continue;
      }
      // The server keeps it on an event every reader of the card sees: credentials are cut here, on
      // the host, with the host token and the profiles' secrets among the values cut.
      const secrets = [...workerSecrets(this.config), this.remote.token];
      const tail = redactSecrets(
        [run.spawn_error, tailOf(run.log_path, secrets)].filter((s) => s !== null).join("\n"),
        secrets,
      );
      try {
        const r = await this.call<{ recorded: string }>("hosts.exited", {
          host_id: this.hostId,
          run_id: run.run_id,
          exit_code: run.exit?.code ?? null,
          signal: run.exit?.signal ?? null,
          output_tail: tail === "" ? null : tail.slice(-OUTPUT_TAIL_BYTES),
        });
        if (r.recorded === "crashed")
          this.log(
            `run ${run.run_id} of ${run.task_id}: worker exited (${run.exit ? `code ${run.exit.code}, signal ${run.exit.signal}` : "status unknown"}) without completing; reported`,
          );
      } catch (err) {
        if (!(err instanceof RemoteCallError) || err.kind !== "refused") throw err;
        this.log(`hosts.exited for run ${run.run_id} refused: ${oneLine(err)}`);
      }
      this.forget(run);
    }
  }

  private profiles(): string[] | null {
    const rt = this.config.runtime;
    return rt.kind === "profiles" ? Object.keys(rt.profiles).sort() : null;
  }

  private async claimAndSpawn(): Promise<void> {
    const max = Math.min(MAX_CLAIM, this.remote.capacity - this.live());
    if (max < 1) return;
    const answer = await this.call<{ claims: RemoteClaim[] }>("hosts.claim", {
      host_id: this.hostId,
      max,
      profiles: this.profiles(),
      pid: this.config.pid,
    });
    // No nudge reaches a remote host: it asks at least once per heartbeat (and at once when a slot frees).
    const every = Math.min(this.config.settings.intervalSeconds, this.heartbeatSeconds);
    this.nextClaimAt = answer.claims.length >= max ? 0 : this.clock.now() + every * 1000;
    for (const claim of answer.claims) await this.spawn(claim);
  }

  private record(run: RunState): HostRun {
    const { phase: _p, child: _c, revoked: _r, ...rest } = run;
    return rest;
  }

  private async spawn(claim: RemoteClaim): Promise<void> {
    const task = claim.task;
    const cfg = this.config;
    const run: RunState = {
      run_id: claim.run_id,
      task_id: task.id,
      board: claim.board,
      board_key: claim.board_key,
      pid: null,
      start_time: null,
      log_path: path.join(logsDir(cfg.location, claim.board), `${task.id}.log`),
      claimed_at: this.now(),
      exit: null,
      spawn_error: null,
      workspace_kind: task.workspace_kind ?? "scratch",
      phase: "running",
      child: true,
      revoked: false,
    };
    // Remembered before the worker exists: a host killed in between still names the run in its next hello.
    this.runs.set(run.run_id, run);
    saveHostRun(cfg.home, this.record(run));
    try {
      const profile = task.assignee ?? "";
      if (!isSpawnable(cfg.runtime, profile)) throw new Error(`'${profile}' is not a profile on this host`);
      const workspace = await resolveWorkspace(task as Task, {
        location: cfg.location,
        board: claim.board,
        defaultWorkdir: null,
        allowedRoots: allowedRootsFor(task, cfg.settings.workspaceRoots),
      });
      const argv = buildWorkerArgv(cfg.runtime, { task, profile, workspace: workspace.path });
      const env = buildWorkerEnv({
        runtime: cfg.runtime,
        baseEnv: cfg.baseEnv,
        task,
        profile,
        runId: run.run_id,
        claimLock: `${this.hostId}:${cfg.pid}`,
        workspace: workspace.path,
        branch: workspace.branch,
        dbPath: "",
        board: claim.board,
        home: cfg.home,
        workspacesRoot: workspacesRoot(cfg.location, claim.board),
        apiUrl: this.remote.server,
        runToken: claim.run_token,
      });
      // The run's marker (how its whole tree is found to stop it) and where its terminal call is kept.
      Object.assign(env, runMarkerEnv({ runId: run.run_id, boardKey: claim.board_key }), {
        KANBAN_OUTBOX: this.outboxDir,
      });
      delete env.KANBAN_HOST_TOKEN;
      const pid = await this.pool.spawn({
        argv,
        env,
        cwd: workspace.path,
        logPath: run.log_path as string,
        logRotateBytes: cfg.settings.logRotateBytes,
        logBackupCount: cfg.settings.logBackupCount,
        meta: { task_id: task.id, board: claim.board, run_id: run.run_id },
      });
      // The exit listener may already have run for a worker that died at once; keep what it saw.
      run.pid = pid;
      run.start_time = processStartTime(pid);
      saveHostRun(cfg.home, this.record(run));
      this.log(`run ${run.run_id} of ${task.id}: worker pid ${pid} started (${profile})`);
      this.reports.push({ procedure: "hosts.spawned", input: { host_id: this.hostId, run_id: run.run_id, pid } });
    } catch (err) {
      run.phase = "exited";
      run.spawn_error = `cannot start the worker: ${oneLine(err)}`;
      saveHostRun(cfg.home, this.record(run));
      this.log(`run ${run.run_id} of ${task.id}: ${run.spawn_error}`);
    }
  }
}
