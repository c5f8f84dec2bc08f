import fs from "node:fs";
import { cgroupPids, cgroupUsage } from "./cgroup.ts";
import { procStatFields } from "./process.ts";

/**
 * A running worker's footprint (Linux /proc): how many processes its tree has, their resident
 * memory, and the CPU they used since the previous sample, in percent of one CPU (200 = two cores
 * busy). The tree is its cgroup when it has one (every process, whatever it did), else the pids the
 * caller found (its process group, descendants and processes carrying its run id).
 */
export interface Footprint {
  pids: number;
  rss_bytes: number;
  /** Null on a tree's first sample (a rate needs two). */
  cpu_percent: number | null;
}

/** Clock ticks per second of /proc/<pid>/stat's times: 100 on every Linux port Node runs on (USER_HZ). */
const USER_HZ = 100;

/** Resident memory of a process in bytes (VmRSS of /proc/<pid>/status, exact in kB), 0 when gone. */
export function processRss(pid: number): number {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return 0;
  }
  const m = /^VmRSS:\s+(\d+)\s*kB/m.exec(text);
  return m ? Number(m[1]) * 1024 : 0;
}

/**
 * CPU time of a process in clock ticks: its own user + system time and that of the children it
 * has reaped (a worker running short commands spends its CPU in them).
 */
function processCpuTicks(pid: number): number {
  const f = procStatFields(pid);
  if (f === null) return 0;
  // proc(5) fields 14-17 (utime, stime, cutime, cstime) are [11..14] after the command name.
  return [11, 12, 13, 14].reduce((sum, i) => sum + (Number(f[i]) || 0), 0);
}

/** Live processes by parent and by process group, from one pass over /proc. */
interface ProcTable {
  children: Map<number, number[]>;
  groups: Map<number, number[]>;
  alive: Set<number>;
}

function procTable(): ProcTable {
  const table: ProcTable = { children: new Map(), groups: new Map(), alive: new Set() };
  let names: string[];
  try {
    names = fs.readdirSync("/proc");
  } catch {
    return table;
  }
  const push = (m: Map<number, number[]>, k: number, v: number) => {
    const list = m.get(k);
    if (list) list.push(v);
    else m.set(k, [v]);
  };
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    const f = procStatFields(pid);
    if (f === null || f[0] === "Z" || f[0] === "X") continue;
    table.alive.add(pid);
    push(table.children, Number(f[1]), pid);
    push(table.groups, Number(f[2]), pid);
  }
  return table;
}

/** `root`'s tree in a table: the members of its process group and every descendant of them and of it. */
function treeOf(table: ProcTable, root: number): number[] {
  const out = new Set<number>();
  const stack = [...(table.groups.get(root) ?? []), ...(table.alive.has(root) ? [root] : [])];
  while (stack.length > 0) {
    const pid = stack.pop() as number;
    if (out.has(pid)) continue;
    out.add(pid);
    for (const c of table.children.get(pid) ?? []) stack.push(c);
  }
  return [...out].sort((a, b) => a - b);
}

/**
 * Every live process in `root`'s tree: the members of its process group and the descendants (by
 * parent pid) of it and of them, from one pass over /proc. Processes that left both (`setsid` and
 * re-parented to init) are found by their run id (`scanRunProcesses`) or by a cgroup, not here.
 */
export function processTree(root: number): number[] {
  return treeOf(procTable(), root);
}

/** {@link processTree} of several roots from a single pass over /proc (a tick samples every worker). */
export function processTrees(roots: readonly number[]): Map<number, number[]> {
  const table = procTable();
  return new Map(roots.map((r) => [r, treeOf(table, r)]));
}

/** What a tree is: its cgroup, or the pids found for it. */
export type FootprintSource = { cgroup: string } | { pids: readonly number[] };

/**
 * Samples trees by key (a run), remembering each tree's CPU time to turn the next sample into a
 * rate. {@link retain} forgets the trees no longer sampled.
 */
export class FootprintSampler {
  private readonly last = new Map<string, { atMs: number; cpuUsec: number }>();

  /** Samples one tree; `nowMs` is a monotonic time (performance.now()), used for the CPU rate only. */
  sample(key: string, source: FootprintSource, nowMs: number = performance.now()): Footprint {
    const pids = "cgroup" in source ? cgroupPids(source.cgroup) : [...new Set(source.pids)];
    let rss = 0;
    let ticks = 0;
    for (const pid of pids) {
      rss += processRss(pid);
      ticks += processCpuTicks(pid);
    }
    // A cgroup's own counter includes processes that already exited; /proc sums only the living.
    const usage = "cgroup" in source ? cgroupUsage(source.cgroup).cpuUsageUsec : null;
    const cpuUsec = usage ?? (ticks * 1_000_000) / USER_HZ;
    const prev = this.last.get(key);
    this.last.set(key, { atMs: nowMs, cpuUsec });
    let cpu: number | null = null;
    if (prev !== undefined && nowMs > prev.atMs) {
      const used = Math.max(0, cpuUsec - prev.cpuUsec);
      cpu = Math.round((used / ((nowMs - prev.atMs) * 1000)) * 1000) / 10;
    }
    return { pids: pids.length, rss_bytes: rss, cpu_percent: cpu };
  }

  /** Forgets every tree not in `keys`. */
  retain(keys: ReadonlySet<string>): void {
    for (const k of this.last.keys()) if (!keys.has(k)) this.last.delete(k);
  }
}
