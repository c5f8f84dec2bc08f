import { dispatcherEntriesFromHome, type DispatcherEntry, liveDispatcherPid, readDispatcherStatus } from "@kanban/db";
import type { HostFacts, HostHold, WorkerFootprint } from "@kanban/kernel";
import { isPidAlive } from "@kanban/process";
import type { KanbanContext } from "./context.ts";

// The host's side of a card's motion (`tasks.why`, board cards): what only the dispatcher and this
// host know, read from the dispatcher's status (SQLite: <home>/kanban/dispatcher.json and its lock;
// PostgreSQL: the board's kanban_dispatchers rows) and config.json. Every field is read tolerantly:
// a status written by an older dispatcher (no holds, no host cap, no footprints) gives fewer facts,
// never an error.

type Loose = Record<string, unknown>;

function isObject(v: unknown): v is Loose {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const HOLD_CODES = new Set(["memory_floor", "host_cap", "profile_cap"]);

/** The board's holds of the last tick: entries naming another board are left out. */
function holdsOf(raw: unknown, slug: string): HostHold[] {
  if (!Array.isArray(raw)) return [];
  const out: HostHold[] = [];
  for (const h of raw) {
    if (!isObject(h) || typeof h.task_id !== "string" || typeof h.code !== "string" || !HOLD_CODES.has(h.code))
      continue;
    if (typeof h.board === "string" && h.board !== slug) continue;
    out.push({
      task_id: h.task_id,
      code: h.code as HostHold["code"],
      detail: isObject(h.detail) ? h.detail : {},
    });
  }
  return out;
}

function hostCapOf(raw: unknown): HostFacts["hostCap"] {
  if (!isObject(raw) || typeof raw.running !== "number") return null;
  return { running: raw.running, max: typeof raw.max === "number" ? raw.max : null };
}

function footprintsOf(raw: unknown): WorkerFootprint[] {
  if (!Array.isArray(raw)) return [];
  return raw.filter((f): f is WorkerFootprint => isObject(f) && typeof f.task_id === "string");
}

/** The labels a local dispatcher offers (issue 15), as strings; anything else in the field is left out. */
function labelsOf(raw: unknown): string[] {
  return Array.isArray(raw) ? raw.filter((l): l is string => typeof l === "string") : [];
}

/**
 * A PostgreSQL row's published fields: they ride in the row's `last_tick` JSON (the dispatcher adds
 * no column); a row that carries them at its top level is read too.
 */
function published(e: DispatcherEntry): Loose {
  const tick = isObject(e.last_tick) ? (e.last_tick as unknown as Loose) : {};
  return { ...tick, ...(e as unknown as Loose) };
}

/** Whether any of a board's dispatchers is alive (PostgreSQL rows), with the freshest one's host cap. */
function fromEntries(entries: DispatcherEntry[], slug: string): Partial<HostFacts> {
  const alive = entries.filter((e) => e.state === "alive");
  const freshest = alive.reduce<DispatcherEntry | null>(
    (a, b) => (a === null || b.heartbeat_at > a.heartbeat_at ? b : a),
    null,
  );
  const hostCap = (e: DispatcherEntry) => published(e).host_cap ?? null;
  return {
    dispatcher: { alive: alive.length > 0, interval_seconds: freshest?.interval_seconds ?? null },
    holds: alive.flatMap((e) => holdsOf(published(e).holds, slug)),
    hostCap: freshest ? hostCapOf(hostCap(freshest)) : null,
    footprints: alive.flatMap((e) => footprintsOf(published(e).footprints)),
    // Any live dispatcher of the board that offers every label a task requires can take it.
    localLabels: [...new Set(alive.flatMap((e) => labelsOf(published(e).labels)))].sort(),
  };
}

/** The SQLite home's one dispatcher: alive while the lock's pid lives and its status is fresh. */
function fromHome(home: string, slug: string, now: number): Partial<HostFacts> {
  const entries = dispatcherEntriesFromHome(home, now);
  const status = readDispatcherStatus(home) as (Loose & { interval_seconds?: number }) | null;
  const entryAlive = entries.some((e) => e.state === "alive");
  // A dispatcher that holds the lock but has not written its first status yet is starting: alive.
  const alive = entryAlive || (status === null && liveDispatcherPid(home) !== null);
  if (!alive || status === null) return { dispatcher: { alive, interval_seconds: status?.interval_seconds ?? null } };
  return {
    dispatcher: { alive, interval_seconds: status.interval_seconds ?? null },
    holds: holdsOf(status.holds, slug),
    hostCap: hostCapOf(status.host_cap),
    footprints: footprintsOf(status.footprints),
    localLabels: labelsOf(status.labels),
  };
}

/**
 * Everything the motion needs to know about this host for the board `slug`: its dispatcher(s),
 * their last tick's holds, the host cap and footprints, config's profiles, default assignee and
 * per-profile cap, and a pid probe (workers of this host only: the kernel judges a pid only for a
 * claim taken here).
 */
export async function hostFacts(
  ctx: Pick<KanbanContext, "boards" | "config" | "dispatchers" | "location" | "knownProfiles">,
  slug: string,
): Promise<HostFacts> {
  const now = Math.floor(ctx.boards.clock.now() / 1000);
  const kanban = ctx.config().kanban;
  const dispatcherSide =
    ctx.dispatchers !== null
      ? fromEntries(await ctx.dispatchers.list(slug, now), slug)
      : fromHome(ctx.location.home, slug, now);
  return {
    knownProfiles: ctx.knownProfiles()?.names ?? null,
    defaultAssignee: kanban.default_assignee.trim() || null,
    maxInProgressPerProfile: kanban.max_in_progress_per_profile ?? null,
    // The dispatcher's auto-revive settings, so `why` names the same revive time it will use.
    autoRevive: { cooldowns: kanban.auto_revive_cooldowns_seconds, max: kanban.auto_revive_max },
    isPidAlive,
    ...dispatcherSide,
  };
}
