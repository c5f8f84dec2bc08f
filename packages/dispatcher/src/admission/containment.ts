import { type CgroupProbe, createRunCgroup, probeCgroups, removeEmptyRunCgroups, runCgroupDir } from "@kanban/process";
import type { ContainmentMode } from "@kanban/db";

/** What the dispatcher says of its containment, once in its log and in every status. */
export interface ContainmentState {
  mode: ContainmentMode;
  /** Why the process-tree fallback is used, or what cgroup mode cannot enforce here; null: nothing to say. */
  reason: string | null;
  /** The kanban cgroup subtree (cgroup mode). */
  root: string | null;
}

export interface ContainmentSettings {
  containment: "auto" | "cgroup" | "process-tree";
  cgroupRoot: string | null;
}

/**
 * How this dispatcher contains its workers: in cgroup mode each worker gets its own cgroup under
 * the kanban subtree, with its profile's `memory_max` / `cpu_max`; otherwise its process group and
 * run id (the process-tree fallback). Decided by a real probe ({@link probeCgroups}), again only
 * when `kanban.containment` or `kanban.cgroup_root` changes.
 */
export class WorkerContainment {
  private decided: { key: string; state: ContainmentState } | null = null;

  constructor(private readonly probe: (root: string | null) => CgroupProbe = (root) => probeCgroups({ root })) {}

  /** The mode for these settings, and whether it was just (re)decided (to be said once in the log). */
  state(s: ContainmentSettings): { state: ContainmentState; changed: boolean } {
    const key = `${s.containment}\0${s.cgroupRoot ?? ""}`;
    if (this.decided?.key === key) return { state: this.decided.state, changed: false };
    let state: ContainmentState;
    if (s.containment === "process-tree") {
      state = { mode: "process-tree", reason: 'kanban.containment is "process-tree"', root: null };
    } else {
      const p = this.probe(s.cgroupRoot);
      if (p.usable) state = { mode: "cgroup", reason: p.reason, root: p.root };
      else
        state = {
          mode: "process-tree",
          reason: s.containment === "cgroup" ? `kanban.containment is "cgroup" but ${p.reason}` : p.reason,
          root: null,
        };
    }
    this.decided = { key, state };
    return { state, changed: true };
  }

  /**
   * The cgroup a run's worker starts in (cgroup mode), with the profile's limits written; null in
   * the process-tree mode. `missing`: limits this host cannot apply (no controller).
   */
  cgroupForRun(
    s: ContainmentSettings,
    run: { boardKey: string; runId: number },
    limits: { memoryMax?: number | null; cpuMax?: number | null },
  ): { cgroup: string | null; missing: string[] } {
    const { state } = this.state(s);
    if (state.mode !== "cgroup" || state.root === null) return { cgroup: null, missing: [] };
    const made = createRunCgroup(runCgroupDir(state.root, run), limits);
    return { cgroup: made.dir, missing: made.missing };
  }

  /** Removes the cgroups of finished workers (cgroup mode); returns how many. */
  sweep(s: ContainmentSettings): number {
    const { state } = this.state(s);
    return state.mode === "cgroup" && state.root !== null ? removeEmptyRunCgroups(state.root) : 0;
  }
}
