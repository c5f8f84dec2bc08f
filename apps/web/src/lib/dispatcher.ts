import { ago } from "./format.ts";
import type { DispatcherState } from "./types.ts";

export interface DispatcherHealth {
  kind: "none" | "ok" | "stuck";
  label: string;
  title: string;
}

/**
 * What the toolbar says about the dispatcher: absent, ticking (with its last tick), or stuck (alive
 * but silent for three intervals, at least 30 s: a tick may legitimately take a while).
 */
export function dispatcherHealth(state: DispatcherState | null, now: number): DispatcherHealth {
  const none: DispatcherHealth = {
    kind: "none",
    label: "No dispatcher",
    title: "No dispatcher is running: ready tasks will not be picked up. Start one with `npm start` or `kanban dispatcher`.",
  };
  if (!state?.alive) return none;
  const s = state.status;
  const pid = `pid ${state.pid ?? "?"}`;
  if (!s) return { kind: "ok", label: "Dispatcher · starting", title: pid };
  const last = s.last_tick_at ?? s.started_at;
  const interval = s.interval_seconds > 0 ? s.interval_seconds : 60;
  const limit = Math.max(30, 3 * interval);
  if (now - last > limit) {
    return { kind: "stuck", label: `Dispatcher stuck · last tick ${ago(last, now)}`, title: `${pid} has not ticked for ${now - last} s (expected every ${interval} s)` };
  }
  const warn = s.warnings.at(-1);
  return {
    kind: "ok",
    label: `Dispatcher · ${ago(last, now)}`,
    title: `${pid}, ${s.ticks} ticks, ${s.running_workers.length} workers running${warn ? `; latest warning: ${warn.message}` : ""}`,
  };
}
