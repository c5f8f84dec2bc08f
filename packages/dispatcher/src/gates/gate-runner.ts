import fs from "node:fs";
import path from "node:path";
import type { Board, ChangeEvidence, CommandResult, CommandRound } from "@kanban/kernel";
import { collectChange } from "./change.ts";
import { runCommand } from "./run-command.ts";

/**
 * The dispatcher's side of the acceptance-command gate: each tick it takes the rounds a board holds
 * in review for their commands, runs each round's commands in the card's workspace in the
 * background (a tick never waits for them), and reports what they found with the change they judged.
 */
export const DEFAULT_GATE_CONCURRENCY = 2;
/** Lease beyond the commands' own timeouts: time to start them, collect the change and report. */
const LEASE_SLACK_SECONDS = 60;

export interface GateRunnerOptions {
  /** Who claims the rounds: `<hostname>:<pid>:gates`. */
  claimer: string;
  /** This machine's name, as dispatchers put it in their claim locks (`<hostname>:<pid>`). */
  hostname: string;
  /** Rounds run at once per board. */
  concurrency?: () => number;
  /** The environment the commands' PATH, HOME, LANG and TMPDIR come from. */
  baseEnv?: NodeJS.ProcessEnv;
  log: (line: string) => void;
  warn: (line: string) => void;
}

/** Gives the runner a board to report on once its commands are done (the tick's may be closed by then). */
export type WithBoard = <T>(fn: (board: Board) => Promise<T>) => Promise<T>;

export function gateClaimer(hostname: string, pid: number): string {
  return `${hostname}:${pid}:gates`;
}

export class GateRunner {
  /** `<board>\0<task>\0<round>` → the run in progress, so this process never runs a round twice. */
  private readonly running = new Map<string, Promise<void>>();

  constructor(private readonly opts: GateRunnerOptions) {}

  /** Rounds this runner has going. */
  get active(): number {
    return this.running.size;
  }

  /**
   * Claims up to the free slots of `slug`'s waiting rounds and starts them; returns the rounds
   * started. Only the listing and the claims are awaited.
   */
  async tick(slug: string, board: Board, withBoard: WithBoard): Promise<string[]> {
    const limit = Math.max(1, Math.floor(this.opts.concurrency?.() ?? DEFAULT_GATE_CONCURRENCY));
    const prefix = `${slug}\0`;
    const mine = [...this.running.keys()].filter((k) => k.startsWith(prefix)).length;
    let free = limit - mine;
    if (free <= 0) return [];
    // Every waiting round: a change made on a remote host (`kanban-dispatcher --server`, which runs no
    // gates) is judged here too, where its missing workspace blocks the card for a person.
    const rounds = await board.pendingCommandRounds({ limit: free + mine });
    const started: string[] = [];
    for (const r of rounds) {
      if (free <= 0) break;
      const key = `${slug}\0${r.task.id}\0${r.round}`;
      if (this.running.has(key)) continue;
      if (await this.elsewhere(board, r)) continue;
      const lease = r.commands.reduce((s, c) => s + c.timeout_seconds, 0) + LEASE_SLACK_SECONDS;
      if (!(await board.claimCommandRound(r.task.id, r.round, { claimer: this.opts.claimer, lease_seconds: lease })))
        continue;
      free--;
      started.push(r.task.id);
      const run = this.runRound(slug, r, withBoard)
        .catch((err: unknown) =>
          this.opts.warn(`board ${slug}: gates of ${r.task.id} round ${r.round} not reported: ${oneLine(err)}`),
        )
        .finally(() => this.running.delete(key));
      this.running.set(key, run);
    }
    return started;
  }

  /**
   * A round whose workspace is not here but whose work was claimed by a dispatcher of another
   * machine (several share a PostgreSQL board) is that machine's to run: it is left to its runner
   * rather than failed here. Any other missing workspace is reported (the card is blocked for a
   * person), a remote host's included: hosts run no gates, so nobody else would ever judge it.
   */
  private async elsewhere(board: Board, r: CommandRound): Promise<boolean> {
    if (r.workspace.path !== null && isDirectory(r.workspace.path)) return false;
    // The run's own lock is cleared when it ends; its `claimed` event keeps who took it.
    const claimed = (await board.listEvents(r.task.id))
      .filter((e) => e.kind === "claimed" && e.payload?.run_id === r.round)
      .at(-1);
    const lock = typeof claimed?.payload?.lock === "string" ? claimed.payload.lock : null;
    // A remote host's lock is `kh-<16 hex>:<pid>` (hosts.ts).
    if (lock === null || /^kh-[0-9a-f]{16}:/.test(lock)) return false;
    return /:\d+$/.test(lock) && !lock.startsWith(`${this.opts.hostname}:`);
  }

  /** Waits for every round in progress (the dispatcher's shutdown). */
  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running.values()]);
  }

  private async runRound(slug: string, r: CommandRound, withBoard: WithBoard): Promise<void> {
    const results: CommandResult[] = [];
    let change: ChangeEvidence | null = null;
    const where = r.workspace.path;
    if (where === null || !isDirectory(where)) {
      // Not a fault of the work: the kernel blocks the card for a person rather than counting it.
      const first = r.commands[0];
      results.push({
        name: first?.name ?? "workspace",
        argv: first?.argv ?? [],
        outcome: "error",
        exit_code: null,
        signal: null,
        timed_out: false,
        duration_ms: 0,
        output_tail: "",
        error: `workspace ${where ?? "(none)"} is not on this machine`,
      });
    } else {
      for (const cmd of r.commands) {
        const res = await runCommand(cmd, { cwd: where, taskId: r.task.id, baseEnv: this.opts.baseEnv });
        results.push(res);
        // The first command that does not pass decides the round: the later ones are not run.
        if (res.outcome !== "passed") break;
      }
      try {
        change = await collectChange(r.workspace);
      } catch (err) {
        this.opts.warn(`board ${slug}: cannot read the change of ${r.task.id}: ${oneLine(err)}`);
      }
    }
    const out = await withBoard((board) =>
      board.reportCommandRound(r.task.id, r.round, { claimer: this.opts.claimer, results, change }),
    );
    const failed = results.findIndex((x) => x.outcome !== "passed");
    // Only the program's name is said: arguments may carry anything, and the evidence has them all.
    const detail =
      failed === -1
        ? `${results.length} command(s)`
        : `command ${failed + 1}/${r.commands.length} (${programName(results[failed]?.argv[0])}) ${results[failed]?.outcome}`;
    this.opts.log(
      `board ${slug}: gates of ${r.task.id} round ${r.round} ${out.passed ? "passed" : "failed"}: ${detail} → ${out.stage}`,
    );
  }
}

function programName(program: string | undefined): string {
  return program === undefined ? "?" : path.basename(program);
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function oneLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split("\n")[0] ?? msg;
}
