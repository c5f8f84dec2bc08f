/**
 * "Why isn't this moving?" on the board: the kernel's motion (board.get's `motion` on each card that
 * is not moving, `tasks.why` in the drawer) is the one source of the words; this file only decides
 * how a code looks (its family: colour and icon) and reads the worker's footprint and the log's last
 * line for the drawer's liveness panel. Nothing here rewords the server's sentence.
 */

/** What a card carries when it is not moving (board.get), and the part of `tasks.why` the card needs. */
export interface CardMotion {
  code: string;
  line: string;
}

/**
 * Families of motion codes, one look each:
 * - waiting: it will move by itself (parents to finish, a schedule, the next tick, a spawn);
 * - held: admission holds it (a profile or host cap, the memory floor);
 * - guard: a respawn guard holds it until a time;
 * - breaker: the circuit breaker tripped (a person must look);
 * - unhealthy: running, but quiet, stale, orphaned or about to lose its lease;
 * - attention: nothing will move it until a person acts (no assignee, not a profile, no dispatcher, blocked,
 *   in Todo, Triage or Review);
 * - nohost: it requires host labels that no connected host (nor a local dispatcher) has: it moves
 *   when such a host connects, or when a person changes what it requires (issue 15);
 * - settled: done or archived (no line on the card: the column says it);
 * - moving: running and healthy;
 * - other: a code this board does not know yet (a newer server): shown plainly.
 */
export type MotionFamily =
  | "waiting"
  | "held"
  | "guard"
  | "breaker"
  | "unhealthy"
  | "attention"
  | "nohost"
  | "settled"
  | "moving"
  | "other";

const FAMILY: Record<string, MotionFamily> = {
  waiting_on_parents: "waiting",
  scheduled: "waiting",
  ready_waiting_for_tick: "waiting",
  claimed_not_spawned: "waiting",
  profile_cap_full: "held",
  host_cap_full: "held",
  memory_floor: "held",
  respawn_guard: "guard",
  breaker_tripped: "breaker",
  running_quiet: "unhealthy",
  running_stale: "unhealthy",
  running_orphaned: "unhealthy",
  lease_expiring: "unhealthy",
  unassigned: "attention",
  not_runnable_profile: "attention",
  no_dispatcher: "attention",
  blocked: "attention",
  in_todo: "attention",
  in_triage: "attention",
  in_review: "attention",
  no_host_for_labels: "nohost",
  done: "settled",
  archived: "settled",
  running_healthy: "moving",
};

export function motionFamily(code: string): MotionFamily {
  return FAMILY[code] ?? "other";
}

/**
 * The line a card shows, or null: never for a moving card (board.get sends no motion for it), and
 * not for a settled one (the Done and Archived columns already say it).
 */
export function cardMotionLine(motion: CardMotion | null | undefined): CardMotion | null {
  if (!motion || typeof motion.line !== "string" || motion.line.trim() === "") return null;
  const family = motionFamily(motion.code);
  return family === "settled" || family === "moving" ? null : motion;
}

/** A worker's live footprint as the dispatcher samples it each tick. */
export interface Footprint {
  run_id: number | null;
  task_id: string | null;
  board: string | null;
  /** How many processes the run's tree holds. */
  processes: number;
  /** The pids, when the sample lists them (the dispatcher's status counts them: `pids` is a number there). */
  pids: number[];
  rss_bytes: number | null;
  cpu_percent: number | null;
  sampled_at: number | null;
}

const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

/** Reads one footprint record, tolerating `pids` as a list or a count; null when it is not one. */
export function readFootprint(raw: unknown): Footprint | null {
  if (typeof raw !== "object" || raw === null) return null;
  const r = raw as Record<string, unknown>;
  const pids = Array.isArray(r.pids) ? r.pids.filter((p): p is number => typeof p === "number") : [];
  const count = Array.isArray(r.pids) ? pids.length : (num(r.pids) ?? num(r.processes) ?? num(r.process_count));
  if (count === null) return null;
  return {
    run_id: num(r.run_id),
    task_id: typeof r.task_id === "string" ? r.task_id : null,
    board: typeof r.board === "string" ? r.board : null,
    processes: count,
    pids,
    rss_bytes: num(r.rss_bytes),
    cpu_percent: num(r.cpu_percent),
    sampled_at: num(r.sampled_at),
  };
}

/**
 * The footprint of a task's current run: `tasks.why`'s `detail.footprint` when the server put it
 * there, else the dispatcher status's `footprints` list (matched on run id, or task id when the
 * sample names no run). A sample of another run of the same task, or of another board's task, is
 * never shown as this one's.
 */
export function footprintFor(opts: {
  whyDetail: Record<string, unknown> | null | undefined;
  dispatcherFootprints: unknown;
  taskId: string;
  runId: number | null;
  /** The board's slug, when known (the status lists every board of the home). */
  board?: string | null;
}): Footprint | null {
  const fromWhy = readFootprint(opts.whyDetail?.footprint);
  if (fromWhy) return fromWhy;
  if (!Array.isArray(opts.dispatcherFootprints)) return null;
  for (const raw of opts.dispatcherFootprints) {
    const f = readFootprint(raw);
    if (!f || f.task_id !== opts.taskId) continue;
    if (opts.board && f.board && f.board !== opts.board) continue;
    if (f.run_id === null || opts.runId === null || f.run_id === opts.runId) return f;
  }
  return null;
}

/** "812 KiB", "182 MiB", "1.4 GiB": resident memory at a glance. */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = Math.max(0, bytes);
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  const digits = i === 0 || v >= 10 ? 0 : 1;
  return `${v.toFixed(digits)} ${units[i]}`;
}

/** "0%", "3.5%", "187%" (a tree on two cores can pass 100 %). */
export function formatCpu(percent: number): string {
  const p = Math.max(0, percent);
  return `${p < 10 ? Number(p.toFixed(1)) : Math.round(p)}%`;
}

/** The last non-empty line of a log's tail (what the worker said last), or null. */
export function lastLogLine(content: string | null | undefined): string | null {
  if (!content) return null;
  const lines = content.split(/\r?\n/);
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]?.trim();
    if (line) return line;
  }
  return null;
}

/**
 * The worker's host: the server's when it says (`detail.host`), else the claim lock's `host:pid`
 * (how a host-local claimer names itself), else null.
 */
export function workerHost(
  whyDetail: Record<string, unknown> | null | undefined,
  claimLock: string | null,
): string | null {
  const h = whyDetail?.host;
  if (typeof h === "string" && h !== "") return h;
  if (!claimLock) return null;
  const at = claimLock.lastIndexOf(":");
  return at > 0 ? claimLock.slice(0, at) : null;
}
