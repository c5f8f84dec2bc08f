import { type ChildProcess, spawn, spawnSync } from "node:child_process";

/**
 * Test helpers that lock files the way Hermes does: a real Python process calling
 * `fcntl.flock(f, LOCK_EX)` on a file opened "a+" (never deleted, never written).
 */
export interface PythonFlockHolder {
  readonly child: ChildProcess;
  /** Ends the holder with SIGKILL (the kernel drops its lock) and waits for it to exit. */
  kill(): Promise<void>;
}

/** Starts a Python process that holds an exclusive flock on `file` until killed; resolves once it holds it. */
export async function holdFlockInPython(file: string): Promise<PythonFlockHolder> {
  const script = [
    "import fcntl, sys, time",
    "f = open(sys.argv[1], 'a+')",
    "fcntl.flock(f.fileno(), fcntl.LOCK_EX)",
    "print('held', flush=True)",
    "time.sleep(600)",
  ].join("\n");
  const child = spawn("python3", ["-c", script, file], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`python flock holder exited early (${code})`)));
    child.stdout?.once("data", () => resolve());
  });
  child.removeAllListeners("exit");
  return {
    child,
    kill: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGKILL");
      }),
  };
}

/** One non-blocking `LOCK_EX | LOCK_NB` attempt from a Python process: true if it got the lock. */
export function pythonCanFlock(file: string): boolean {
  const script = [
    "import fcntl, sys",
    "f = open(sys.argv[1], 'a+')",
    "try:",
    "    fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)",
    "except BlockingIOError:",
    "    sys.exit(3)",
  ].join("\n");
  const r = spawnSync("python3", ["-c", script, file]);
  if (r.status !== 0 && r.status !== 3) throw new Error(`python3 failed: ${r.stderr?.toString()}`);
  return r.status === 0;
}

/** One `flock -n` attempt by util-linux's flock(1): true if it got the lock. */
export function flockCommandCan(file: string): boolean {
  const r = spawnSync("flock", ["-n", file, "true"]);
  if (r.error) throw r.error;
  return r.status === 0;
}
