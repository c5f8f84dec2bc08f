import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { makeTempDir } from "@kanban/db/testing";
import { afterEach, describe, expect, it } from "vitest";
import { tryAcquirePidLock } from "./pid-lock.ts";
import { isPidAlive, processGroupAlive, signalProcessGroup } from "@kanban/process";

const temps: { cleanup: () => void }[] = [];
afterEach(() => {
  for (const t of temps.splice(0)) t.cleanup();
});
function lockFile(): string {
  const t = makeTempDir("kanban-lock-");
  temps.push(t);
  return path.join(t.dir, "sub", "x.lock");
}

/** A pid that certainly belonged to a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  return Number(r.stdout);
}

describe("tryAcquirePidLock", () => {
  it("is exclusive while held and free again once released", () => {
    const file = lockFile();
    const a = tryAcquirePidLock(file);
    expect(a.ok).toBe(true);
    expect(fs.readFileSync(file, "utf8").split("\n")[0]).toBe(String(process.pid));
    const b = tryAcquirePidLock(file);
    expect(b).toEqual({ ok: false, holder: process.pid });
    if (a.ok) a.lock.release();
    expect(fs.existsSync(file)).toBe(false);
    const c = tryAcquirePidLock(file);
    expect(c.ok).toBe(true);
    if (c.ok) c.lock.release();
  });

  it("takes over a lock whose holder is dead", () => {
    const file = lockFile();
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `${deadPid()}\n\n`);
    const a = tryAcquirePidLock(file);
    expect(a.ok).toBe(true);
    expect(fs.readFileSync(file, "utf8").split("\n")[0]).toBe(String(process.pid));
    expect(fs.readdirSync(path.dirname(file))).toEqual(["x.lock"]);
  });

  it("takes over a lock whose pid was recycled by another process (start time differs)", () => {
    const file = lockFile();
    fs.mkdirSync(path.dirname(file), { recursive: true });
    // Our own pid is alive, but with a start time that is not ours: the original holder is gone.
    fs.writeFileSync(file, `${process.pid}\n1\n`);
    expect(tryAcquirePidLock(file).ok).toBe(process.platform === "linux");
  });

  it("does not release a lock that someone else took over", () => {
    const file = lockFile();
    const a = tryAcquirePidLock(file);
    if (!a.ok) throw new Error("expected the lock");
    fs.writeFileSync(file, "1\n\nother\n");
    a.lock.release();
    expect(fs.readFileSync(file, "utf8")).toBe("1\n\nother\n");
  });
});

describe("process probes", () => {
  it("treats a zombie (exited, never reaped by its parent) as dead", async () => {
    // `exec sleep` replaces the shell without ever waiting for the background child: it stays a zombie.
    const parent = spawn("/bin/sh", ["-c", "sleep 0.1 & echo $!; exec sleep 30"], {
      detached: true,
      stdio: ["ignore", "pipe", "ignore"],
    });
    try {
      const zombie = await new Promise<number>((resolve) =>
        parent.stdout?.once("data", (d: Buffer) => resolve(Number(d.toString().trim()))),
      );
      const end = Date.now() + 5000;
      while (isPidAlive(zombie) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
      expect(() => process.kill(zombie, 0)).not.toThrow(); // the pid still exists...
      expect(isPidAlive(zombie)).toBe(false); // ...but the process is gone
      expect(isPidAlive(parent.pid ?? 0)).toBe(true);
    } finally {
      signalProcessGroup(parent.pid ?? 0, "SIGKILL");
    }
  });

  it("signals whole process groups and sees when every member is gone", async () => {
    // The shell leads the group; its sleeping child is a member of the same group.
    const child = spawn("/bin/sh", ["-c", "sleep 30 & wait"], { detached: true, stdio: "ignore" });
    const pid = child.pid ?? 0;
    expect(isPidAlive(pid)).toBe(true);
    expect(processGroupAlive(pid)).toBe(true);
    const exited = new Promise((resolve) => child.on("exit", resolve));
    expect(signalProcessGroup(pid, "SIGKILL")).toBe(true);
    await exited;
    const end = Date.now() + 5000;
    while (processGroupAlive(pid) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    expect(processGroupAlive(pid)).toBe(false);
    expect(isPidAlive(pid)).toBe(false);
    expect(signalProcessGroup(999_999_999, "SIGTERM")).toBe(false);
    expect(isPidAlive(deadPid())).toBe(false);
  });
});
