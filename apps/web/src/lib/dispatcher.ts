import { ago } from "./format.ts";
import type { DispatcherState } from "./types.ts";

export interface DispatcherHealth {
  kind: "none" | "ok" | "stuck" | "unknown";
  label: string;
  title: string;
}

export interface DispatcherLine {
  id: string;
  state: "alive" | "stale" | "dead" | "stopped";
  text: string;
}

/**
 * One line per dispatcher of the board (a board on PostgreSQL may have several, on several hosts):
 * host, pid, alive/stale/dead/stopped and its last tick. Empty from a server that predates the list.
 */
export function dispatcherLines(state: DispatcherState | null, now: number): DispatcherLine[] {
  return (state?.dispatchers ?? []).map((d) => ({
    id: d.id,
    state: d.state,
    text: `${d.host ?? "?"} pid ${d.pid} · ${d.state} · last tick ${ago(d.last_tick_at, now)}`,
  }));
}

/** The toolbar's dot, plus the list of dispatchers when there is more than one (label and tooltip). */
export function dispatcherSummary(state: DispatcherState | null, now: number, reachable = true): DispatcherHealth {
  const h = dispatcherHealth(state, now, reachable);
  const lines = reachable ? dispatcherLines(state, now) : [];
  if (lines.length < 2) return h;
  const live = lines.filter((l) => l.state === "alive").length;
  return {
    ...h,
    label: `${h.label} · ${live}/${lines.length} dispatchers`,
    title: [h.title, ...lines.map((l) => l.text)].join("\n"),
  };
}

/**
 * What the toolbar says about the dispatcher, from the server's `health` (derived from how fresh
 * the live dispatcher's own status is): absent, starting, ticking (with its last tick), or stuck.
 * `reachable: false` (the server is not answering, or the status query failed) is "unknown": the
 * last answer must not keep a green dot on screen while nothing can be known.
 */
export function dispatcherHealth(state: DispatcherState | null, now: number, reachable = true): DispatcherHealth {
  if (!reachable) {
    return {
      kind: "unknown",
      label: "Dispatcher · unknown",
      title: "The server is not answering, so the dispatcher's state is unknown.",
    };
  }
  const none: DispatcherHealth = {
    kind: "none",
    label: "No dispatcher",
    title:
      "No dispatcher is running: ready tasks will not be picked up. Start one with `npm start` or `kanban dispatcher`.",
  };
  if (!state?.alive) return none;
  const pid = `pid ${state.pid ?? "?"}`;
  const s = state.status;
  const health = state.health;
  if (health.state === "stopped") return none;
  if (health.state === "starting") return { kind: "ok", label: "Dispatcher · starting", title: pid };
  const last = health.last_seen_at ?? s?.last_tick_at ?? s?.started_at ?? null;
  const interval = s && s.interval_seconds > 0 ? s.interval_seconds : 60;
  if (health.state === "stuck") {
    return {
      kind: "stuck",
      label: last === null ? "Dispatcher stuck" : `Dispatcher stuck · last tick ${ago(last, now)}`,
      title: `${pid} has not reported for ${health.silent_seconds ?? "?"} s (expected every ${interval} s)`,
    };
  }
  const warn = s?.warnings.at(-1);
  const configError = state.config_error ? `; config.json: ${state.config_error}` : "";
  return {
    kind: "ok",
    label: `Dispatcher · ${ago(last, now)}`,
    title: `${pid}, ${s?.ticks ?? 0} ticks, ${s?.running_workers.length ?? 0} workers running${warn ? `; latest warning: ${warn.message}` : ""}${configError}`,
  };
}
