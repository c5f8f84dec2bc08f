import fs from "node:fs";
import path from "node:path";
import type { Board } from "@kanban/kernel";
import { TestClock } from "@kanban/kernel/testing";
import { WorkspaceError } from "@kanban/workspace";
import { afterEach, describe, expect, it } from "vitest";
import { killAll, makeHome, type TestHome, trackPool } from "../test/helpers.ts";
import { createDispatcher } from "./dispatcher.ts";
import {
  classifyWorkerSpawnError,
  HostSpawnRefusal,
  isInfrastructureSpawnError,
  isInfrastructureWorkspaceError,
} from "./spawn-failure.ts";

/**
 * Issue 17's `infrastructure` class through a real dispatcher: a profile whose worker program is
 * missing (or not executable) on this host is a refusal of the host's, never counted against the
 * task, cooled down by the respawn guard, and never blocked however often it happens.
 */
let home: TestHome | null = null;

afterEach(async () => {
  await killAll();
  home?.cleanup();
  home = null;
});

async function events(b: Board, id: string, kind: string) {
  return (await b.listEvents(id)).filter((e) => e.kind === kind);
}

/** Longer than any task's jittered cooldown (300 s ± 20 %). */
const PAST_COOLDOWN = 400;

describe("infrastructure spawn refusals with a real dispatcher", { timeout: 30_000 }, () => {
  it("a missing or non-executable worker program: ready, 0 failures, infrastructure_cooldown, never blocked", async () => {
    home = makeHome({});
    const notExecutable = path.join(home.home, "agent-without-x-bit");
    fs.writeFileSync(notExecutable, "#!/bin/sh\nexit 0\n", { mode: 0o644 });
    home.writeConfig({
      kanban: { failure_limit: 2 },
      profiles: {
        ghost: { command: ["/nonexistent/bin/agent", "{task_id}"], env: {}, skills: [] },
        noexec: { command: [notExecutable, "{task_id}"], env: {}, skills: [] },
      },
    });
    const b = home.board();
    const missing = (await b.createTask({ title: "missing program", assignee: "ghost" })).id;
    const noexec = (await b.createTask({ title: "not executable", assignee: "noexec" })).id;
    const clock = new TestClock(Math.floor(Date.now() / 1000));
    const logs: string[] = [];
    const d = createDispatcher(home.config(), { log: (l) => logs.push(l), clock });
    trackPool(d.pool);

    const first = (await d.tick()).boards[0];
    expect(first?.spawned).toEqual([]);
    expect(first?.auto_blocked).toEqual([]);
    const expected: [string, string][] = [
      [missing, "worker program not found: /nonexistent/bin/agent"],
      [noexec, `worker program not found: ${notExecutable}`],
    ];
    for (const [id, error] of expected) {
      // The same one-line message as before; only the class changed.
      expect(await b.requireTask(id)).toMatchObject({
        status: "ready",
        claim_lock: null,
        consecutive_failures: 0,
        last_failure_error: error,
      });
      expect((await events(b, id, "spawn_failed"))[0]?.payload).toEqual({
        error,
        failures: 0,
        infrastructure: true,
        failure_class: "infrastructure",
      });
      expect((await b.listRuns(id))[0]).toMatchObject({
        outcome: "spawn_failed",
        metadata: { infrastructure: true },
      });
      // `kanban why`: the board's motion (the dispatcher's clock is the wall clock here, not yet moved).
      const why = await b.explainMotion(id, { knownProfiles: ["ghost", "noexec"] });
      expect(why.code).toBe("respawn_guard");
      expect(why.detail.guard).toBe("infrastructure_cooldown");
      expect(why.line).toMatch(/^Held by the respawn guard \(infrastructure_cooldown\)/);
    }
    expect(logs.some((l) => l.includes(`spawn of ${missing} failed (infrastructure): worker program not found`))).toBe(
      true,
    );

    // While it cools down, the lane holds it (the same words as `kanban why`), and no spawn is tried.
    const held = await d.once({ dryRun: true });
    expect(held.respawn_guarded.sort((x, y) => x.task_id.localeCompare(y.task_id))).toEqual(
      [missing, noexec].sort().map((task_id) => ({ task_id, reason: "infrastructure_cooldown" })),
    );
    expect(held.motions.find((m) => m.task_id === missing)?.line).toMatch(/\(infrastructure_cooldown\)/);
    expect((await d.tick()).boards[0]?.spawned).toEqual([]);
    expect(await events(b, missing, "spawn_failed")).toHaveLength(1);

    // Each cooldown ends, the spawn is refused again: with a failure limit of 2, five refusals in a
    // row would have blocked a counted failure long ago.
    for (let i = 2; i <= 5; i++) {
      clock.advance(PAST_COOLDOWN);
      const r = (await d.tick()).boards[0];
      expect(r?.auto_blocked).toEqual([]);
      expect(r?.spawned).toEqual([]);
      for (const id of [missing, noexec]) {
        expect(await b.requireTask(id)).toMatchObject({ status: "ready", consecutive_failures: 0 });
        expect(await events(b, id, "spawn_failed")).toHaveLength(i);
      }
    }
    for (const id of [missing, noexec]) expect(await events(b, id, "gave_up")).toEqual([]);
  });

  it("a workspace that cannot be made for the task's own reasons is still counted and gives up", async () => {
    home = makeHome({});
    const file = path.join(home.home, "a-file");
    fs.writeFileSync(file, "");
    home.writeConfig({
      kanban: { failure_limit: 2 },
      profiles: { ghost: { command: ["/nonexistent/bin/agent"], env: {}, skills: [] } },
    });
    const b = home.board();
    // A dir workspace naming a regular file (ENOTDIR): the task's path is wrong, not the host.
    const t = (await b.createTask({ title: "bad dir", assignee: "ghost", workspace_kind: "dir", workspace_path: file }))
      .id;
    const d = createDispatcher(home.config(), { log: () => {} });
    trackPool(d.pool);
    await d.tick();
    expect(await b.requireTask(t)).toMatchObject({ status: "ready", consecutive_failures: 1 });
    expect((await events(b, t, "spawn_failed"))[0]?.payload).not.toHaveProperty("infrastructure");
    expect((await d.tick()).boards[0]?.auto_blocked).toEqual([t]);
    expect(await b.requireTask(t)).toMatchObject({ status: "blocked", consecutive_failures: 2 });
  });
});

describe("classifying spawn errors", () => {
  const errno = (message: string, code: string) => Object.assign(new Error(message), { code });

  it("fork failures and a program that does not resolve are the host's; the message is kept", () => {
    for (const err of [
      new Error("cannot start agent: spawn agent EAGAIN"),
      errno("spawn ENOMEM", "ENOMEM"),
      errno("ENOSPC: no space left on device, open '/logs/t.log'", "ENOSPC"),
      new Error("worker program not found: /nonexistent/bin/agent"),
    ]) {
      const out = classifyWorkerSpawnError(err, "/nonexistent/bin/agent", "/usr/bin");
      expect(out).toBeInstanceOf(HostSpawnRefusal);
      expect((out as Error).message).toBe(err.message);
      expect(isInfrastructureSpawnError(out)).toBe(true);
    }
  });

  it("any other error of a program that resolves stays a counted failure", () => {
    const err = errno("cannot start node: bad argument", "EINVAL");
    expect(classifyWorkerSpawnError(err, process.execPath, "")).toBe(err);
    expect(isInfrastructureSpawnError(err)).toBe(false);
  });

  it("a workspace directory that cannot be created on a full, read-only or over-quota disk is the host's", () => {
    const ws = (code: string) =>
      new WorkspaceError(`its scratch workspace cannot be created at /w (${code})`, { details: { error: code } });
    for (const code of ["ENOSPC", "EROFS", "EDQUOT"]) expect(isInfrastructureWorkspaceError(ws(code))).toBe(true);
    for (const code of ["EEXIST", "ENOTDIR", "EACCES", "ENOENT"])
      expect(isInfrastructureWorkspaceError(ws(code))).toBe(false);
    expect(isInfrastructureWorkspaceError(new WorkspaceError("task has non-absolute workspace_path"))).toBe(false);
  });
});
