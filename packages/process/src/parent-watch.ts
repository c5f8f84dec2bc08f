import { commandNameOf, parentPidOf } from "./process.ts";

/**
 * A supervised child that outlives its supervisor holds ports and locks nobody will release. On
 * Linux the kernel re-parents an orphan at once (to init or the nearest subreaper) however its
 * parent died, SIGKILL and the OOM killer included, so `process.ppid` changing is a signal that needs
 * no cooperation from the dead parent and no file descriptor the child or a library could close.
 * The expected parent is named up front rather than taken from the first look: a parent that died
 * before the child looked would otherwise never be noticed.
 *
 * Why not the alternatives: prctl(PR_SET_PDEATHSIG) needs a native addon and fires when the parent's
 * spawning *thread* exits; a pipe or IPC channel closing works only while the child keeps the right
 * fd open and nothing else inherited its write end, and an IPC channel changes how Node (and Next)
 * behave. A poll every half second costs nothing measurable.
 */

/** The variable a supervisor sets to its own pid in a child's environment to opt the child in. */
export const PARENT_PID_ENV = "KANBAN_PARENT_PID";

export interface ParentWatchOptions {
  /** Where the expected parent pid is read from (default `process.env`, from which it is removed). */
  env?: NodeJS.ProcessEnv;
  /** How often the parent is checked (default 500 ms). */
  pollMs?: number;
  /** After SIGTERM to ourselves, how long our own shutdown may take before we exit regardless (default 30 s). */
  graceMs?: number;
  /** Told once, when the parent is found gone. */
  log?: (line: string) => void;
}

/** Shells npm runs a script or an `npx` bin through (`sh -c '<script>'`). */
const SCRIPT_SHELLS = new Set(["sh", "dash", "bash", "zsh", "ash"]);

/**
 * Starts watching `alive` and, once it turns false, sends ourselves SIGTERM, so the process's own
 * orderly shutdown runs (or, without a handler, the default action ends it), and exits after
 * `graceMs` should that shutdown hang. The timers are unref'd: watching never keeps a process alive.
 */
function watch(alive: () => boolean, what: string, opts: ParentWatchOptions): void {
  const gone = () => {
    clearInterval(timer);
    opts.log?.(`${what} is gone: stopping`);
    setTimeout(() => process.exit(1), opts.graceMs ?? 30_000).unref();
    process.kill(process.pid, "SIGTERM");
  };
  const timer = setInterval(() => {
    if (!alive()) gone();
  }, opts.pollMs ?? 500);
  timer.unref();
  if (!alive()) gone();
}

/**
 * Makes this process stop (as on SIGTERM) once whoever supervises it is gone. Returns what it
 * watches, or null when nothing:
 * - `KANBAN_PARENT_PID` set (by `npm start`'s supervisor for its parts): our parent must stay that
 *   pid. The variable is removed from the environment, so our own children (workers) never inherit it.
 * - else, run by npm (`npm start`, `npm run`, `npx`: `npm_lifecycle_event` is set): npm runs us
 *   through `sh -c`, and forwards a supervisor's SIGTERM or SIGINT only to that shell, which dies of
 *   it without passing it on; and a SIGKILLed npm leaves the shell waiting on us. So the shell must
 *   stay our parent and npm the shell's parent (Linux `/proc`; elsewhere only our own parent).
 * - else (started by hand, from a shell, nohup, systemd): nothing; a shell that exits is no reason to stop.
 */
export function exitWithSupervisor(opts: ParentWatchOptions = {}): string | null {
  const env = opts.env ?? process.env;
  const raw = env[PARENT_PID_ENV];
  delete env[PARENT_PID_ENV];
  if (raw !== undefined) {
    const expected = Number(raw);
    if (!Number.isInteger(expected) || expected <= 1) return null;
    const what = `parent process ${expected}`;
    watch(() => process.ppid === expected, what, opts);
    return what;
  }
  if (env.npm_lifecycle_event === undefined) return null;
  const parent = process.ppid;
  const viaShell = SCRIPT_SHELLS.has(commandNameOf(parent) ?? "");
  const npm = viaShell ? parentPidOf(parent) : null;
  if (npm === null || npm <= 1) {
    const what = `npm (pid ${parent})`;
    watch(() => process.ppid === parent, what, opts);
    return what;
  }
  const what = `npm (pid ${npm}, through sh pid ${parent})`;
  watch(() => process.ppid === parent && parentPidOf(parent) === npm, what, opts);
  return what;
}
