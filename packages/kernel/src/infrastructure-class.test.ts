import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { BLOCKER_AUTH_HOLD_SECONDS } from "./constants.ts";
import type { HostFacts } from "./motion/index.ts";
import { rateLimitCooldownSeconds } from "./respawn-guard.ts";
import { guardHold } from "./testing/guard-hold.ts";
import { createTestBoard, type TestBoard } from "./testing/index.ts";
import { dropFreeTestSchemas, settleTestSchemas } from "./testing/test-store.ts";

// Issue 17, the `infrastructure` failure class (spec §2.11 [B], §2.12 rule 1): a spawn the host
// refused (worker program missing here, fork or disk failure) is never counted, never trips the
// breaker, and is cooled down by the respawn guard's infrastructure_cooldown.

let board: TestBoard;
beforeEach(() => {
  board = createTestBoard({}, { recycle: true });
});
afterEach(async () => {
  board.cleanup();
  await settleTestSchemas();
});
afterAll(async () => await dropFreeTestSchemas());

const FACTS: HostFacts = { dispatcher: { alive: true, interval_seconds: 60 }, knownProfiles: ["coder"] };
const MISSING = "worker program not found: no-such-agent";

async function create(): Promise<string> {
  return (await board.createTask({ title: "work", assignee: "coder" })).id;
}

/** Claims `id` as the dispatcher does, then books a spawn refusal; returns the closed run's id. */
async function refuse(id: string, error: string, infrastructure: boolean): Promise<{ run: number; tripped: boolean }> {
  const c = await board.claimTask(id);
  if (!c || c.current_run_id === null) throw new Error("claim failed");
  const tripped = await board.recordTaskFailure(id, {
    error,
    outcome: "spawn_failed",
    releaseClaim: true,
    ...(infrastructure ? { infrastructure: true } : {}),
  });
  return { run: c.current_run_id, tripped };
}

/** The guard holding `id` (lane and motion agreeing). */
const hold = (id: string) => guardHold(board, id, FACTS);

describe("infrastructure spawn refusals", () => {
  it("five in a row: back in ready each time, nothing counted, never blocked, each cooled down", async () => {
    const id = await create();
    for (let i = 0; i < 5; i++) {
      const { run, tripped } = await refuse(id, MISSING, true);
      expect(tripped).toBe(false);
      expect(await board.getTask(id)).toMatchObject({
        status: "ready",
        claim_lock: null,
        current_run_id: null,
        consecutive_failures: 0,
        last_failure_error: MISSING,
      });
      expect(await board.getRun(run)).toMatchObject({
        status: "spawn_failed",
        outcome: "spawn_failed",
        error: MISSING,
        metadata: { infrastructure: true },
      });
      expect((await hold(id)).guard).toBe("infrastructure_cooldown");
      board.clock.advance(rateLimitCooldownSeconds(id));
    }
    const events = (await board.listEvents(id)).filter((e) => e.kind === "spawn_failed");
    expect(events).toHaveLength(5);
    for (const e of events) expect(e.payload).toMatchObject({ error: MISSING, failures: 0, infrastructure: true });
    expect((await board.listEvents(id)).filter((e) => e.kind === "gave_up")).toEqual([]);
    await board.recomputeReady();
    expect(await board.getTask(id)).toMatchObject({ status: "ready", consecutive_failures: 0 });
  });

  it("never trips, even with a task limit of 1 and failures already counted", async () => {
    const id = (await board.createTask({ title: "w", assignee: "coder", max_retries: 1 })).id;
    for (let i = 0; i < 3; i++) {
      expect((await refuse(id, MISSING, true)).tripped).toBe(false);
      board.clock.advance(rateLimitCooldownSeconds(id));
    }
    expect(await board.getTask(id)).toMatchObject({ status: "ready", consecutive_failures: 0 });
  });

  it("is held by infrastructure_cooldown until the jittered cooldown ends, then released and claimable", async () => {
    const id = await create();
    const { run } = await refuse(id, "cannot start agent: spawn agent EACCES (permission denied)", true);
    const ended = (await board.getRun(run)).ended_at as number;
    const until = ended + rateLimitCooldownSeconds(id);
    expect(await hold(id)).toEqual({ guard: "infrastructure_cooldown", until });
    const motion = await board.explainMotion(id, FACTS);
    expect(motion.line).toMatch(/^Held by the respawn guard \(infrastructure_cooldown\), until .*refused by the host/);
    expect(motion.next).toMatch(/retried by itself when the cooldown ends/);
    expect(await board.respawnGuard(id)).toBe("infrastructure_cooldown");
    board.clock.advance(until - 1 - board.clock.seconds);
    expect((await hold(id)).guard).toBe("infrastructure_cooldown");
    board.clock.advance(1);
    // "permission denied" would read as an auth problem: after a host refusal blocker_auth is skipped.
    expect(await hold(id)).toEqual({ guard: null, until: null });
    expect(await board.respawnGuard(id)).toBeNull();
    const real = await board.claimNext(board.readyLane({}), {}, 10);
    expect(real.claimed.map((c) => c.task_id)).toEqual([id]);
  });

  it("keeps a counted failure's streak as it was (neither adds nor resets)", async () => {
    board.cleanup();
    board = createTestBoard({ failureLimit: 5 }, { recycle: true });
    const id = await create();
    await refuse(id, "profile exploded", false);
    await refuse(id, MISSING, true);
    expect(await board.getTask(id)).toMatchObject({ status: "ready", consecutive_failures: 1 });
  });

  it("a normal spawn failure still counts and trips at the limit, with no infrastructure mark and no cooldown", async () => {
    const id = await create();
    const first = await refuse(id, "workspace: its dir workspace cannot be created at /x (EEXIST)", false);
    expect(first.tripped).toBe(false);
    expect(await board.getTask(id)).toMatchObject({ status: "ready", consecutive_failures: 1 });
    expect((await board.getRun(first.run)).metadata).toEqual({ failure_class: "spawn_failed" });
    const [ev] = (await board.listEvents(id)).filter((e) => e.kind === "spawn_failed");
    expect(ev?.payload).not.toHaveProperty("infrastructure");
    expect((await hold(id)).guard).toBeNull();
    expect((await refuse(id, "workspace: again (EEXIST)", false)).tripped).toBe(true);
    expect(await board.getTask(id)).toMatchObject({ status: "blocked", consecutive_failures: 2 });
  });

  it("a forced trip (a permanent refusal) wins over the infrastructure mark", async () => {
    const id = await create();
    const c = await board.claimTask(id);
    expect(c).not.toBeNull();
    const tripped = await board.recordTaskFailure(id, {
      error: "workspace: outside the allowed roots",
      outcome: "spawn_failed",
      releaseClaim: true,
      forceTrip: true,
      infrastructure: true,
    });
    expect(tripped).toBe(true);
    expect((await board.getTask(id))?.status).toBe("blocked");
  });

  it("a counted auth-looking failure after the cooldown still holds by blocker_auth (the skip is for host refusals only)", async () => {
    board.cleanup();
    board = createTestBoard({ failureLimit: 5 }, { recycle: true });
    const id = await create();
    await refuse(id, MISSING, true);
    board.clock.advance(rateLimitCooldownSeconds(id));
    const { run } = await refuse(id, "403 Forbidden", false);
    const ended = (await board.getRun(run)).ended_at as number;
    expect(await hold(id)).toEqual({ guard: "blocker_auth", until: ended + BLOCKER_AUTH_HOLD_SECONDS });
  });
});
