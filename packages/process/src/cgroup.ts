import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { isPidAlive } from "./process.ts";

/**
 * Workers in cgroup v2 (Linux): each worker runs in its own cgroup under a kanban subtree, so its
 * whole tree stays countable and killable whatever it does (`setsid`, double forks, a scrubbed
 * environment), and the profile's `memory.max` / `cpu.max` bound the tree, not one process.
 *
 * - {@link probeCgroups} decides once whether this host allows it: a cgroup2 file system, a
 *   writable subtree (root, or a delegated one), `cgroup.kill` (Linux 5.14+), and a process really
 *   moved into a probe cgroup. Anything short of that is the process-tree fallback, with the reason.
 * - A worker is put in its cgroup before its program runs: it is started as
 *   `sh -c 'echo $$ > <cgroup>/cgroup.procs && exec <program> …'` ({@link argvIntoCgroup}), so not
 *   even its first fork happens outside (moving its pid after spawn would race with that fork).
 * - {@link stopCgroup} is the termination of a contained run: SIGTERM to every process of the
 *   cgroup, the grace, then `cgroup.kill` (the kernel kills every member, also ones forked meanwhile),
 *   and the emptied cgroup is removed.
 */

/** The cgroup2 mount point from /proc/self/mountinfo (a pure v2 host: /sys/fs/cgroup; hybrid: often /sys/fs/cgroup/unified). */
export function cgroup2Mount(mountinfo = "/proc/self/mountinfo"): string | null {
  let text: string;
  try {
    text = fs.readFileSync(/*turbopackIgnore: true*/ mountinfo, "utf8");
  } catch {
    return null;
  }
  let found: string | null = null;
  for (const line of text.split("\n")) {
    // "<id> <parent> <maj:min> <root> <mount point> <options> [optional…] - <fstype> <source> <super options>"
    const sep = line.indexOf(" - ");
    if (sep < 0) continue;
    const fstype = line.slice(sep + 3).split(" ")[0];
    if (fstype !== "cgroup2") continue;
    const mountPoint = (line.slice(0, sep).split(" ")[4] ?? "").replace(/\\040/g, " ");
    if (mountPoint === "/sys/fs/cgroup") return mountPoint;
    found ??= mountPoint;
  }
  return found;
}

export interface CgroupProbe {
  /** Whether workers can be contained in cgroups here. */
  usable: boolean;
  /** The cgroup2 mount (null when none). */
  mount: string | null;
  /** The kanban subtree under which each worker gets its cgroup (made by the probe). */
  root: string | null;
  /** Controllers a worker's cgroup gets (`memory`, `cpu`): what `memory_max` / `cpu_max` need. */
  controllers: string[];
  /** Why cgroups are not used, or what they cannot enforce here (null: nothing to say). */
  reason: string | null;
}

function readText(file: string): string | null {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return null;
  }
}

function words(file: string): string[] {
  return (readText(file) ?? "").split(/\s+/).filter((w) => w !== "");
}

function errText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ?? e.message ?? String(err);
}

/** Tries `rmdir` a few times: a cgroup whose last process just exited reads busy for a moment. */
function rmdirRetry(dir: string, tries = 20): boolean {
  for (let i = 0; i < tries; i++) {
    try {
      fs.rmdirSync(dir);
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return true;
      if (code !== "EBUSY") return false;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
  }
  return false;
}

/**
 * Whether (and where) workers can run in their own cgroups. `root` (config `kanban.cgroup_root`)
 * defaults to `<cgroup2 mount>/kanban`; it is created, the `memory` and `cpu` controllers are
 * enabled for its children where the parent offers them, and a real process is moved into a probe
 * cgroup and the probe removed. Never throws.
 */
export function probeCgroups(opts: { root?: string | null; mountinfo?: string } = {}): CgroupProbe {
  const mount = cgroup2Mount(opts.mountinfo);
  const none = (reason: string, root: string | null = null): CgroupProbe => ({
    usable: false,
    mount,
    root,
    controllers: [],
    reason,
  });
  if (process.platform !== "linux") return none(`cgroups are Linux only (this is ${process.platform})`);
  if (mount === null) return none("no cgroup v2 file system is mounted");
  const root = path.resolve(/*turbopackIgnore: true*/ opts.root ?? path.join(mount, "kanban"));
  if (root !== mount && !root.startsWith(`${mount}/`))
    return none(`${root} is not inside the cgroup v2 mount ${mount}`);
  try {
    fs.mkdirSync(root, { recursive: true });
  } catch (err) {
    return none(`cannot create ${root} (${errText(err)}): not root and no delegated cgroup`, root);
  }
  if (!fs.existsSync(path.join(root, "cgroup.kill")) && root !== mount)
    return none("the kernel has no cgroup.kill (Linux 5.14 or later is needed)", root);
  // Controllers for the workers' cgroups: enabled top-down, each level only what its parent offers.
  const wanted = ["memory", "cpu"];
  const chain: string[] = [];
  for (let dir = root; dir !== mount && dir.startsWith(mount); dir = path.dirname(dir)) chain.unshift(dir);
  let parent = mount;
  for (const dir of chain) {
    const offered = words(path.join(parent, "cgroup.controllers"));
    const enable = wanted.filter((c) => offered.includes(c));
    if (enable.length > 0) {
      try {
        fs.writeFileSync(path.join(parent, "cgroup.subtree_control"), enable.map((c) => `+${c}`).join(" "));
      } catch {
        // a parent with processes of its own cannot hand controllers down: the limits are reported missing below
      }
    }
    parent = dir;
  }
  const offered = words(path.join(root, "cgroup.controllers"));
  const enable = wanted.filter((c) => offered.includes(c));
  if (enable.length > 0) {
    try {
      fs.writeFileSync(path.join(root, "cgroup.subtree_control"), enable.map((c) => `+${c}`).join(" "));
    } catch {
      // reported below
    }
  }
  const controllers = words(path.join(root, "cgroup.subtree_control")).filter((c) => wanted.includes(c));
  // A real move: the only proof that spawned workers can be put there (delegation, no_internal_process rules).
  const probe = path.join(root, `probe-${process.pid}`);
  try {
    fs.mkdirSync(probe, { recursive: true });
  } catch (err) {
    return none(`cannot create a cgroup under ${root} (${errText(err)})`, root);
  }
  const moved = spawnSync("/bin/sh", ["-c", 'echo $$ > "$0"', path.join(probe, "cgroup.procs")], {
    stdio: "ignore",
    timeout: 5000,
  });
  rmdirRetry(probe);
  if (moved.status !== 0) return none(`cannot move a process into a cgroup under ${root}`, root);
  const missing = wanted.filter((c) => !controllers.includes(c));
  const hybrid =
    mount !== "/sys/fs/cgroup" ? ` (hybrid host: cgroup v2 at ${mount}, the controllers on cgroup v1)` : "";
  const reason =
    missing.length > 0
      ? `no ${missing.join(", ")} controller for ${root}${hybrid}: ${missing.map((c) => `${c}_max`).join(" and ")} cannot be enforced`
      : null;
  return { usable: true, mount, root, controllers, reason };
}

/** A run's cgroup name: the board's key and the run id (run ids are per board), safe as a directory name. */
export function runCgroupName(identity: { boardKey: string; runId: number }): string {
  return `run-${identity.boardKey.replace(/[^A-Za-z0-9_-]/g, "_")}-${identity.runId}`;
}

/** A run's cgroup directory under `root` (whether it exists or not). */
export function runCgroupDir(root: string, identity: { boardKey: string; runId: number }): string {
  return path.join(root, runCgroupName(identity));
}

export interface CgroupLimits {
  /** `memory.max` in bytes. */
  memoryMax?: number | null;
  /** `cpu.max` in CPUs (1.5 → "150000 100000"). */
  cpuMax?: number | null;
}

/** The `cpu.max` line for a number of CPUs (period 100 ms). */
export function cpuMaxLine(cpus: number): string {
  return `${Math.max(1000, Math.round(cpus * 100_000))} 100000`;
}

/**
 * Makes a run's cgroup and writes its limits. Returns its directory and the limits that could not
 * be set (their controller is not enabled here): the worker runs contained, without them.
 */
export function createRunCgroup(dir: string, limits: CgroupLimits = {}): { dir: string; missing: string[] } {
  fs.mkdirSync(dir, { recursive: true });
  const missing: string[] = [];
  const write = (file: string, value: string) => {
    try {
      fs.writeFileSync(path.join(dir, file), value);
    } catch {
      missing.push(file);
    }
  };
  if (limits.memoryMax != null) {
    write("memory.max", String(Math.floor(limits.memoryMax)));
    // No swap beyond the limit: memory_max is the tree's memory, not a hint.
    if (!missing.includes("memory.max") && fs.existsSync(path.join(dir, "memory.swap.max")))
      write("memory.swap.max", "0");
  }
  if (limits.cpuMax != null) write("cpu.max", cpuMaxLine(limits.cpuMax));
  return { dir, missing };
}

/** The argv that starts `argv` inside the cgroup `dir` (see the module's comment). */
export function argvIntoCgroup(dir: string, argv: readonly string[]): string[] {
  return ["/bin/sh", "-c", 'echo $$ > "$0" || exit 126; exec "$@"', path.join(dir, "cgroup.procs"), ...argv];
}

/** Every process of the cgroup `dir` and of cgroups below it; [] when it does not exist. */
export function cgroupPids(dir: string): number[] {
  const out: number[] = [];
  const visit = (d: string, depth: number) => {
    for (const w of words(path.join(d, "cgroup.procs"))) {
      const pid = Number(w);
      if (Number.isInteger(pid) && pid > 0) out.push(pid);
    }
    if (depth > 8) return;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) if (e.isDirectory()) visit(path.join(d, e.name), depth + 1);
  };
  visit(dir, 0);
  return out;
}

/** The cgroup directory of a process (its cgroup v2 path under the mount), null when unknown. */
export function cgroupOf(pid: number, mount: string | null = cgroup2Mount()): string | null {
  if (mount === null) return null;
  const text = readText(`/proc/${pid}/cgroup`);
  const line = text?.split("\n").find((l) => l.startsWith("0::"));
  return line === undefined ? null : path.join(/*turbopackIgnore: true*/ mount, line.slice(3));
}

/** Sends `signal` to every process of the cgroup; returns the pids signalled. */
export function signalCgroup(dir: string, signal: NodeJS.Signals): number[] {
  const pids = cgroupPids(dir).filter((p) => p !== process.pid);
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

/** Kills every process of the cgroup at once (`cgroup.kill`; without it, SIGKILL to each member). */
export function killCgroup(dir: string): boolean {
  try {
    fs.writeFileSync(path.join(dir, "cgroup.kill"), "1");
    return true;
  } catch {
    return signalCgroup(dir, "SIGKILL").length > 0;
  }
}

/** Removes an empty cgroup (and empty cgroups below it). False while a process is still in it. */
export function removeCgroup(dir: string): boolean {
  let entries: fs.Dirent[] = [];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ENOENT";
  }
  for (const e of entries) if (e.isDirectory()) removeCgroup(path.join(dir, e.name));
  return rmdirRetry(dir, 5);
}

/**
 * Removes the empty run cgroups under `root` (workers that finished), leaving populated ones and
 * ones younger than `minAgeMs`: a cgroup is made just before its worker enters it, and several
 * dispatchers may share the root, so a fresh empty one may be another dispatcher's about to be used.
 * Returns how many were removed.
 */
export function removeEmptyRunCgroups(root: string, minAgeMs = 60_000): number {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(root, { withFileTypes: true });
  } catch {
    return 0;
  }
  let removed = 0;
  for (const e of entries) {
    if (!e.isDirectory() || !e.name.startsWith("run-")) continue;
    const dir = path.join(root, e.name);
    let age = 0;
    try {
      // Compared with the file system's clock (cgroupfs stamps a directory when it is made).
      age = Date.now() - fs.statSync(dir).mtimeMs;
    } catch {
      continue;
    }
    if (age < minAgeMs) continue;
    if (cgroupPids(dir).length === 0 && removeCgroup(dir)) removed++;
  }
  return removed;
}

export interface CgroupStopOutcome {
  /** Every process found in the cgroup when the stop began (and any that joined before the kill). */
  pids: number[];
  /** Whether processes were still there after the grace, so `cgroup.kill` was needed. */
  killed: boolean;
  /** Whether the emptied cgroup was removed. */
  removed: boolean;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Stops a contained run: SIGTERM to every process of its cgroup, up to `graceMs` for them to go,
 * then `cgroup.kill`, then the cgroup is removed once empty. A cgroup already gone or empty is a
 * no-op (removed if still there).
 */
export async function stopCgroup(
  dir: string,
  opts: { graceMs: number; log?: (line: string) => void },
): Promise<CgroupStopOutcome> {
  const seen = new Set(signalCgroup(dir, "SIGTERM"));
  const end = performance.now() + opts.graceMs;
  while (cgroupPids(dir).length > 0 && performance.now() < end) await sleep(50);
  let killed = false;
  const left = cgroupPids(dir);
  // A hang guard, not a speed bound: cgroup.kill is asynchronous, and the members die as the
  // scheduler gets to them, which on a loaded machine (a big RSS to free) took longer than 5 s.
  const hard = performance.now() + 30_000;
  if (left.length > 0) {
    for (const p of left) seen.add(p);
    killed = killCgroup(dir);
    opts.log?.(`cgroup ${path.basename(dir)}: ${left.length} process(es) still there after the grace: cgroup.kill`);
    while (cgroupPids(dir).length > 0 && performance.now() < hard) await sleep(20);
  }
  // A process leaves cgroup.procs a moment before it is done exiting (and the cgroup counts it as
  // populated until then, so rmdir says EBUSY): the stop is over when none of them is alive.
  while ([...seen].some(isPidAlive) && performance.now() < hard) await sleep(20);
  let removed = removeCgroup(dir);
  while (!removed && cgroupPids(dir).length === 0 && performance.now() < hard) {
    await sleep(20);
    removed = removeCgroup(dir);
  }
  return { pids: [...seen], killed, removed };
}

/** What a cgroup itself says of its tree: memory in use (with its controller) and CPU time used. */
export function cgroupUsage(dir: string): { memoryCurrent: number | null; cpuUsageUsec: number | null } {
  const mem = readText(path.join(dir, "memory.current"));
  const cpu = readText(path.join(dir, "cpu.stat"));
  const usage = cpu === null ? null : /^usage_usec\s+(\d+)/m.exec(cpu);
  return {
    memoryCurrent: mem !== null && /^\d+/.test(mem) ? Number(mem.trim()) : null,
    cpuUsageUsec: usage ? Number(usage[1]) : null,
  };
}
