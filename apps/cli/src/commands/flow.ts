import { InvalidArgumentError } from "commander";
import { boardArg, type Deps } from "../deps.ts";
import { table, toJson } from "../output.ts";

/** A point in time as `--since`/`--until` take it: resolved when the command runs. */
export type WhenArg = { ago: number } | { at: number };

/**
 * `7d`, `12h`, `90m` (that long before now), `2026-11-01` (that UTC day's start), an ISO time
 * (`2026-11-01T09:00:00Z`), or unix seconds.
 */
export function whenArg(value: string): WhenArg {
  const v = value.trim();
  const ago = /^(\d+)\s*([mhdw])$/i.exec(v);
  if (ago) {
    const unit = (ago[2] as string).toLowerCase();
    const seconds = Number(ago[1]) * (unit === "m" ? 60 : unit === "h" ? 3600 : unit === "d" ? 86_400 : 7 * 86_400);
    return { ago: seconds };
  }
  if (/^\d{9,11}$/.test(v)) return { at: Number(v) };
  if (/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(v)) {
    const ms = Date.parse(v.length === 10 ? `${v}T00:00:00Z` : v);
    if (Number.isFinite(ms)) return { at: Math.floor(ms / 1000) };
  }
  throw new InvalidArgumentError("expected 7d, 12h, a date (2026-11-01), an ISO time or unix seconds");
}

function resolve(when: WhenArg | undefined, now: number): number | undefined {
  if (when === undefined) return undefined;
  return "ago" in when ? now - when.ago : when.at;
}

/** Seconds as a person reads a duration: 45s, 12m, 3.5h, 2.1d. */
export function humanSeconds(s: number | null): string {
  if (s === null) return "-";
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.round(s / 60)}m`;
  if (s < 86_400) return `${Math.round(s / 360) / 10}h`;
  return `${Math.round(s / 8640) / 10}d`;
}

export interface FlowOptions {
  since?: WhenArg;
  until?: WhenArg;
  json?: boolean;
}

/** `kanban stats --flow`: the board's flow over a window (the API's stats.flow), as text or JSON. */
export async function runFlow(deps: Deps, opts: FlowOptions): Promise<number> {
  const now = Math.floor(Date.now() / 1000);
  const client = await deps.client();
  const flow = await client.stats.flow.query({
    ...boardArg(deps),
    since: resolve(opts.since, now),
    until: resolve(opts.until, now),
  });
  if (opts.json) {
    deps.io.out(toJson(flow));
    return 0;
  }
  const day = (s: number) => new Date(s * 1000).toISOString().slice(0, 16).replace("T", " ");
  const p = (x: { p50: number | null; p90: number | null; n: number }) =>
    `p50 ${humanSeconds(x.p50)}  p90 ${humanSeconds(x.p90)}  (${x.n})`;
  deps.io.out(`Flow from ${day(flow.since)} to ${day(flow.until)} UTC: ${flow.done} card(s) done`);
  deps.io.out("Throughput (done per day):");
  for (const line of table(flow.throughput.map((d) => [`  ${d.day}`, String(d.done)]))) deps.io.out(line);
  deps.io.out(`Cycle time (first claim → done): ${p(flow.cycle_time_seconds)}`);
  deps.io.out(`Lead time (created → done):      ${p(flow.lead_time_seconds)}`);
  const tis = flow.time_in_status_seconds;
  deps.io.out(`Time running: ${p(tis.running)}`);
  deps.io.out(`Time blocked: ${p(tis.blocked)}`);
  deps.io.out(`Time waiting: ${p(tis.waiting)}`);
  const q = flow.ready_queue;
  deps.io.out(
    `Ready queue now: ${q.count} card(s), waiting p50 ${humanSeconds(q.age_seconds.p50)}, max ${humanSeconds(q.age_seconds.max)}`,
  );
  deps.io.out("Blocked (episodes begun in the window):");
  if (flow.blocked.length === 0) deps.io.out("  (none)");
  for (const line of table(
    flow.blocked.map((b) => [
      `  ${b.reason}`,
      `${b.episodes} episode(s)`,
      `${b.open} open`,
      `p50 ${humanSeconds(b.seconds.p50)}`,
    ]),
  ))
    deps.io.out(line);
  const r = flow.rework;
  deps.io.out(
    `Rework: ${r.runs_per_done_card ?? "-"} run(s) per done card, ${r.reworked_cards} card(s) needed more than one`,
  );
  deps.io.out("Runs by profile (ended in the window):");
  if (flow.by_profile.length === 0) deps.io.out("  (none)");
  for (const line of table(
    flow.by_profile.map((b) => [
      `  ${b.profile}`,
      `${b.runs} run(s)`,
      `${b.success_rate === null ? "-" : `${Math.round(b.success_rate * 100)}%`} completed`,
      Object.entries(b.outcomes)
        .filter(([o]) => o !== "completed")
        .map(([o, n]) => `${o} ${n}`)
        .join(", "),
    ]),
  ))
    deps.io.out(line);
  return 0;
}
