import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  BLOCKER_AUTH_HOLD_SECONDS,
  DEFAULT_CRASH_GRACE_SECONDS,
  RATE_LIMIT_COOLDOWN_JITTER,
  RATE_LIMIT_COOLDOWN_SECONDS,
  RATE_LIMIT_EXIT_CODE,
} from "./constants.ts";
import type { HostFacts } from "./motion/index.ts";
import { rateLimitCooldownSeconds } from "./respawn-guard.ts";
import { guardHold } from "./testing/guard-hold.ts";
import { createTestBoard, type TestBoard } from "./testing/index.ts";
import { dropFreeTestSchemas, settleTestSchemas } from "./testing/test-store.ts";

// Issue 17, failure classes (spec §2.10–2.12 [B]): a rate limit (exit 75) is never a failure and is
// cooled down by the respawn guard; a protocol violation (exit 0 while running) trips only after a
// streak; every guard hold ends by itself.

const alive = new Set<number>();
let board: TestBoard;
beforeEach(() => {
  alive.clear();
  board = createTestBoard({ isPidAlive: (pid) => alive.has(pid) }, { recycle: true });
});
afterEach(async () => {
  board.cleanup();
  await settleTestSchemas();
});
afterAll(async () => await dropFreeTestSchemas());

const LOCK = "testhost:4242";
const FACTS: HostFacts = { dispatcher: { alive: true, interval_seconds: 60 }, knownProfiles: ["coder"] };

async function create(opts: { max_retries?: number } = {}): Promise<string> {
  return (await board.createTask({ title: "work", assignee: "coder", ...opts })).id;
}

/** Claims `id` with a worker of pid `pid` (as the dispatcher does after spawning); returns the run. */
async function claim(id: string, pid: number): Promise<number> {
  const c = await board.claimTask(id);
  if (!c || c.current_run_id === null) throw new Error("claim failed");
  await board.recordSpawn(id, pid, c.current_run_id);
  return c.current_run_id;
}

/** The worker of `id` exits with `code`; the crash sweep sees it. */
async function exits(id: string, pid: number, code: number) {
  const run = await claim(id, pid);
  const out = await board.detectCrashedWorkers({ exitStatus: (p) => (p === pid ? { code, signal: null } : undefined) });
  return { run, out };
}

async function kinds(id: string, kind: string) {
  return (await board.listEvents(id)).filter((e) => e.kind === kind);
}

/** The guard holding `id` (lane and motion agreeing). */
const hold = (id: string) => guardHold(board, id, FACTS);

describe("rate_limited (exit 75)", () => {
  it("requeues without counting a failure: run and event rate_limited, only the error stamped", async () => {
    const id = await create();
    // One real failure first: a rate limit must neither add to nor reset the streak.
    await board.recordTaskFailure(id, { error: "pid 1 exited with code 3", outcome: "crashed" });
    const { run, out } = await exits(id, 900, RATE_LIMIT_EXIT_CODE);
    expect(out).toEqual({ crashed: [], protocol_violations: [], rate_limited: [id], transient: [], auto_blocked: [] });
    const error = `pid 900 exited with code ${RATE_LIMIT_EXIT_CODE} (rate limited; retried after a cooldown)`;
    expect(await board.getTask(id)).toMatchObject({
      status: "ready",
      claim_lock: null,
      worker_pid: null,
      current_run_id: null,
      consecutive_failures: 1,
      last_failure_error: error,
    });
    expect(await board.getRun(run)).toMatchObject({ status: "rate_limited", outcome: "rate_limited", error });
    const [ev] = await kinds(id, "rate_limited");
    expect(ev?.run_id).toBe(run);
    expect(ev?.payload).toMatchObject({ pid: 900, claimer: LOCK, exit_code: RATE_LIMIT_EXIT_CODE });
    expect(await kinds(id, "crashed")).toEqual([]);
  });

  it("never trips the breaker, even five times in a row; the guard cools each one down", async () => {
    const id = await create();
    for (let i = 0; i < 5; i++) {
      const { out } = await exits(id, 910 + i, RATE_LIMIT_EXIT_CODE);
      expect(out.auto_blocked).toEqual([]);
      expect(await board.getTask(id)).toMatchObject({ status: "ready", consecutive_failures: 0 });
      expect((await hold(id)).guard).toBe("rate_limit_cooldown");
      board.clock.advance(RATE_LIMIT_COOLDOWN_SECONDS * 2);
    }
    expect(await kinds(id, "gave_up")).toEqual([]);
    await board.recomputeReady();
    expect((await board.getTask(id))?.status).toBe("ready");
  });

  it("is held by rate_limit_cooldown until its jittered cooldown ends, then allowed (blocker_auth skipped on purpose)", async () => {
    const id = await create();
    const { run } = await exits(id, 920, RATE_LIMIT_EXIT_CODE);
    const ended = (await board.getRun(run)).ended_at as number;
    const cooldown = rateLimitCooldownSeconds(id);
    expect(Math.abs(cooldown - RATE_LIMIT_COOLDOWN_SECONDS)).toBeLessThanOrEqual(
      RATE_LIMIT_COOLDOWN_SECONDS * RATE_LIMIT_COOLDOWN_JITTER,
    );
    expect(await hold(id)).toEqual({ guard: "rate_limit_cooldown", until: ended + cooldown });
    expect((await board.explainMotion(id, FACTS)).line).toMatch(
      /^Held by the respawn guard \(rate_limit_cooldown\), until .*exited rate limited \(exit 75\)/,
    );
    expect(await board.respawnGuard(id)).toBe("rate_limit_cooldown");
    board.clock.advance(ended + cooldown - 1 - board.clock.seconds);
    expect((await hold(id)).guard).toBe("rate_limit_cooldown");
    board.clock.advance(1);
    // The stamped error says "rate limited", which the auth/quota rule would match: skipped after a rate limit.
    expect((await board.getTask(id))?.last_failure_error).toMatch(/rate limited/);
    expect(await hold(id)).toEqual({ guard: null, until: null });
    expect(await board.respawnGuard(id)).toBeNull();
    const real = await board.claimNext(board.readyLane({}), {}, 10);
    expect(real.claimed.map((c) => c.task_id)).toEqual([id]);
  });

  it("derives the cooldown from the task id alone: the same id always, different ids spread out", () => {
    expect(rateLimitCooldownSeconds("t_0123456789ab")).toBe(rateLimitCooldownSeconds("t_0123456789ab"));
    const spread = new Set(Array.from({ length: 20 }, (_, i) => rateLimitCooldownSeconds(`t_${i}`)));
    expect(spread.size).toBeGreaterThan(5);
    for (const s of spread) {
      expect(s).toBeGreaterThanOrEqual(RATE_LIMIT_COOLDOWN_SECONDS * (1 - RATE_LIMIT_COOLDOWN_JITTER));
      expect(s).toBeLessThanOrEqual(RATE_LIMIT_COOLDOWN_SECONDS * (1 + RATE_LIMIT_COOLDOWN_JITTER));
    }
  });

  it("never joins a systemic fingerprint: three rate limits in one sweep trip nothing", async () => {
    const ids = [await create(), await create(), await create()];
    const pids = [930, 931, 932];
    for (const [i, id] of ids.entries()) await claim(id, pids[i] as number);
    board.clock.advance(DEFAULT_CRASH_GRACE_SECONDS + 1);
    const out = await board.detectCrashedWorkers({ exitStatus: () => ({ code: RATE_LIMIT_EXIT_CODE, signal: null }) });
    expect(out.rate_limited.sort()).toEqual([...ids].sort());
    expect(out.auto_blocked).toEqual([]);
    for (const id of ids) expect(await board.getTask(id)).toMatchObject({ status: "ready", consecutive_failures: 0 });
  });

  it("a remote host's exit 75 is booked the same way", async () => {
    const id = await create();
    const c = await board.claimTask(id, { claimer: "kh-00000000000000a1:7" });
    const run = c?.current_run_id as number;
    await board.recordSpawn(id, 4321, run);
    expect(await board.recordRemoteExit(run, { exit_code: 75, signal: null, output_tail: "429 slow down" })).toEqual({
      recorded: "rate_limited",
    });
    expect(await board.getTask(id)).toMatchObject({ status: "ready", consecutive_failures: 0 });
    expect(await board.getRun(run)).toMatchObject({ status: "rate_limited", outcome: "rate_limited" });
    const [ev] = await kinds(id, "rate_limited");
    expect(ev?.payload).toMatchObject({ pid: 4321, exit_code: 75, remote: true, output_tail: "429 slow down" });
    expect((await hold(id)).guard).toBe("rate_limit_cooldown");
  });
});

describe("blocker_auth", () => {
  it("ends by itself BLOCKER_AUTH_HOLD_SECONDS after the failure that set it (the run's end)", async () => {
    const id = await create();
    const c = await board.claimTask(id);
    board.clock.advance(100);
    // A spawn refusal closes the run: the hold is counted from its end.
    await board.recordTaskFailure(id, { error: "403 Forbidden", outcome: "spawn_failed", releaseClaim: true });
    const ended = (await board.getRun(c?.current_run_id as number)).ended_at as number;
    expect(await hold(id)).toEqual({ guard: "blocker_auth", until: ended + BLOCKER_AUTH_HOLD_SECONDS });
    expect((await board.explainMotion(id, FACTS)).line).toMatch(/\(blocker_auth\), until .* \(in 6h\)/);
    board.clock.advance(BLOCKER_AUTH_HOLD_SECONDS - 1);
    expect((await hold(id)).guard).toBe("blocker_auth");
    board.clock.advance(1);
    expect(await hold(id)).toEqual({ guard: null, until: null });
  });

  it("with no ended run, counts from the task's last start or creation: still an end", async () => {
    const id = await create();
    const created = (await board.getTask(id))?.created_at as number;
    await board.recordTaskFailure(id, { error: "invalid api key", outcome: "crashed" });
    expect(await hold(id)).toEqual({ guard: "blocker_auth", until: created + BLOCKER_AUTH_HOLD_SECONDS });
  });
});

describe("protocol_violation (exit 0 while running)", () => {
  it("1st and 2nd requeue and count, the 3rd trips; rate-limited runs in between neither break nor extend the streak", async () => {
    const id = await create();
    expect((await exits(id, 940, 0)).out).toMatchObject({ protocol_violations: [id], auto_blocked: [] });
    expect(await board.getTask(id)).toMatchObject({ status: "ready", consecutive_failures: 1 });
    await exits(id, 941, RATE_LIMIT_EXIT_CODE);
    board.clock.advance(RATE_LIMIT_COOLDOWN_SECONDS * 2);
    // Second violation: still under the streak limit (3), although the board's failure limit is 2.
    expect((await exits(id, 942, 0)).out.auto_blocked).toEqual([]);
    expect(await board.getTask(id)).toMatchObject({ status: "ready", consecutive_failures: 2 });
    await exits(id, 943, RATE_LIMIT_EXIT_CODE);
    await exits(id, 944, RATE_LIMIT_EXIT_CODE);
    expect(await board.getTask(id)).toMatchObject({ status: "ready", consecutive_failures: 2 });
    const third = await exits(id, 945, 0);
    expect(third.out.auto_blocked).toEqual([id]);
    expect(await board.getTask(id)).toMatchObject({ status: "blocked", consecutive_failures: 3 });
    expect((await kinds(id, "gave_up"))[0]?.payload).toMatchObject({
      trigger_outcome: "protocol_violation",
      protocol_violation: true,
      violation_streak: 3,
      violation_limit: 3,
      sticky: true,
    });
    expect(await kinds(id, "gave_up")).toHaveLength(1);
    // The trip is sticky: the next tick does not put it back.
    await board.recomputeReady();
    expect((await board.getTask(id))?.status).toBe("blocked");
  });

  it("a crash between violations breaks the streak (it is counted as a crash instead)", async () => {
    board.cleanup();
    board = createTestBoard({ isPidAlive: (pid) => alive.has(pid), failureLimit: 10 }, { recycle: true });
    const id = await create();
    await exits(id, 950, 0);
    await exits(id, 951, 0);
    await exits(id, 952, 3);
    expect((await exits(id, 953, 0)).out.auto_blocked).toEqual([]);
    expect((await kinds(id, "gave_up")).length).toBe(0);
    expect(await board.getTask(id)).toMatchObject({ status: "ready", consecutive_failures: 4 });
  });

  it("the task's max_retries sets the streak's limit", async () => {
    const id = await create({ max_retries: 2 });
    expect((await exits(id, 960, 0)).out.auto_blocked).toEqual([]);
    expect((await exits(id, 961, 0)).out.auto_blocked).toEqual([id]);
    expect((await kinds(id, "gave_up"))[0]?.payload).toMatchObject({ violation_streak: 2, violation_limit: 2 });
  });

  it("an unblock starts a fresh streak", async () => {
    const id = await create();
    for (const pid of [970, 971, 972]) await exits(id, pid, 0);
    expect((await board.getTask(id))?.status).toBe("blocked");
    await board.unblockTask(id);
    expect((await board.getTask(id))?.status).toBe("ready");
    expect((await exits(id, 973, 0)).out.auto_blocked).toEqual([]);
    expect(await board.getTask(id)).toMatchObject({ status: "ready", consecutive_failures: 1 });
  });
});
