import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { forgetInitialised, openDatabase } from "./connection.ts";
import { acquireInitLock } from "./init-lock.ts";
import { migrationsUpTo } from "./test/migrations-up-to.ts";
import { flockCommandCan, holdFlockInPython, type PythonFlockHolder, pythonCanFlock } from "./test/python-flock.ts";
import { makeTempDir } from "./testing.ts";

/** Hermes' init-lock protocol (issue 29): flock on `<db>.init.lock`, the file left in place, empty. */
const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
function tempDir(): string {
  const t = makeTempDir("kanban-init-lock-");
  cleanups.push(t.cleanup);
  return t.dir;
}
async function pythonHolder(file: string): Promise<PythonFlockHolder> {
  const h = await holdFlockInPython(file);
  cleanups.push(() => h.kill());
  return h;
}

describe("init lock", () => {
  it("takes an empty file a Hermes process left behind at once, and leaves it in place, empty", () => {
    const lock = path.join(tempDir(), "kanban.db.init.lock");
    fs.writeFileSync(lock, ""); // what Hermes leaves after every first open
    const warnings: string[] = [];
    const release = acquireInitLock(lock, { warn: (m) => warnings.push(m) });
    expect(warnings).toEqual([]); // no wait for a timeout, no "continuing without it"
    expect(pythonCanFlock(lock)).toBe(false);
    expect(flockCommandCan(lock)).toBe(false);
    release();
    expect(fs.readFileSync(lock, "utf8")).toBe("");
    expect(pythonCanFlock(lock)).toBe(true);
    // A leftover from our own earlier open is just as free.
    const again = acquireInitLock(lock, { warn: (m) => warnings.push(m) });
    again();
    expect(warnings).toEqual([]);
  });

  it("excludes a Hermes (Python fcntl.flock) holder, and is free once that process is killed", async () => {
    const lock = path.join(tempDir(), "kanban.db.init.lock");
    const hermes = await pythonHolder(lock);
    const warnings: string[] = [];
    const unlocked = acquireInitLock(lock, { timeoutMs: 200, pollMs: 20, warn: (m) => warnings.push(m) });
    expect(warnings).toEqual([`init lock ${lock} still held by another process after 200 ms; continuing without it`]);
    unlocked();
    await hermes.kill(); // SIGKILL: the kernel drops its lock; the file stays
    expect(fs.existsSync(lock)).toBe(true);
    const release = acquireInitLock(lock, { timeoutMs: 200, warn: (m) => warnings.push(m) });
    expect(warnings).toHaveLength(1);
    expect(pythonCanFlock(lock)).toBe(false);
    release();
  });

  it("first open of a board waits for Hermes to finish its init and then proceeds with the lock", async () => {
    const dir = tempDir();
    const file = path.join(dir, "kanban.db");
    const marker = path.join(dir, "released");
    // A Hermes-like process: holds the init lock, writes a marker, then releases it.
    const script = [
      "import fcntl, sys, time",
      "f = open(sys.argv[1], 'a+')",
      "fcntl.flock(f.fileno(), fcntl.LOCK_EX)",
      "print('held', flush=True)",
      "time.sleep(0.5)",
      "open(sys.argv[2], 'w').write('done')",
      "fcntl.flock(f.fileno(), fcntl.LOCK_UN)",
      "time.sleep(600)",
    ].join("\n");
    const child = spawn("python3", ["-c", script, `${file}.init.lock`, marker], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    cleanups.push(() => void child.kill("SIGKILL"));
    await new Promise<void>((resolve) => child.stdout?.once("data", () => resolve()));
    forgetInitialised(file);
    const warnings: string[] = [];
    const db = openDatabase({ path: file, warn: (m) => warnings.push(m) });
    // We got the lock only after Hermes let it go: its marker is there, and no timeout warning.
    expect(fs.readFileSync(marker, "utf8")).toBe("done");
    expect(warnings).toEqual([]);
    db.close();
    expect(fs.readFileSync(`${file}.init.lock`, "utf8")).toBe("");
  });

  it("is held by our first open against Hermes: a Python LOCK_NB attempt fails while we migrate", () => {
    const dir = tempDir();
    const file = path.join(dir, "kanban.db");
    const lock = `${file}.init.lock`;
    const seen: boolean[] = [];
    forgetInitialised(file);
    // nowSeconds is called by the legacy pass, inside the locked section, on a board with a running task.
    // The board is one release behind, so the open has a migration to apply (a current board skips the pass).
    const seed = openDatabase({
      path: file,
      warn: () => {},
      migrationsFolder: migrationsUpTo(dir, "0004_hosts_and_requires"),
    });
    seed.sqlite.exec("INSERT INTO tasks (id, title, status, created_at) VALUES ('t_1', 'x', 'running', 1)");
    seed.close();
    forgetInitialised(file);
    const db = openDatabase({
      path: file,
      warn: () => {},
      nowSeconds: () => {
        seen.push(pythonCanFlock(lock));
        return 1;
      },
    });
    db.close();
    expect(seen).toEqual([false]);
    expect(pythonCanFlock(lock)).toBe(true);
  });
});
