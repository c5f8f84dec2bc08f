import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { judgeRevive, normaliseAutoRevive } from "./auto-revive.ts";
import {
  DEFAULT_AUTO_REVIVE_COOLDOWNS_SECONDS,
  DEFAULT_CRASH_GRACE_SECONDS,
  RATE_LIMIT_COOLDOWN_JITTER,
  RESPAWN_JITTER_MAX_SECONDS,
  TRANSIENT_COOLDOWN_BASE_SECONDS,
  TRANSIENT_COOLDOWN_MAX_SECONDS,
  TRANSIENT_EXIT_CODE,
  TRANSIENT_STREAK_UNCOUNTED,
} from "./constants.ts";
import { failureClassOf, isTransientFailureText } from "./failure-class.ts";
import type { HostFacts } from "./motion/index.ts";
import { respawnJitterSeconds } from "./recovery.ts";
import { transientCooldownSeconds } from "./respawn-guard.ts";
import { guardHold } from "./testing/guard-hold.ts";
import { createTestBoard, type TestBoard } from "./testing/index.ts";
import { dropFreeTestSchemas, settleTestSchemas } from "./testing/test-store.ts";

// Issue 17, failures that heal themselves: the transient class (provider 5xx, network, exit 69),
// the auto-revive of cards the breaker blocked for a passing cause, the respawn spread after a mass
// failure in one tick, and the default max runtime.

const alive = new Set<number>();
let board: TestBoard;
beforeEach(() => {
  alive.clear();
  board = createTestBoard({ isPidAlive: (pid) => alive.has(pid) }, { recycle: true });
  // Incident folding (another rule of issue 17) would take over a profile failing three times in a
  // window; these tests are about one card's own classes, so it is set out of reach here.
  board.setIncidentPolicy(() => ({ threshold: 1000 }));
});
afterEach(async () => {
  board.cleanup();
  await settleTestSchemas();
});
afterAll(async () => await dropFreeTestSchemas());

const FACTS: HostFacts = { dispatcher: { alive: true, interval_seconds: 60 }, knownProfiles: ["coder"] };

async function create(opts: { max_retries?: number; max_runtime_seconds?: number; assignee?: string } = {}) {
  return (await board.createTask({ title: "work", assignee: "coder", ...opts })).id;
}

async function claim(id: string, pid: number): Promise<number> {
  const c = await board.claimTask(id);
  if (!c || c.current_run_id === null) throw new Error("claim failed");
  await board.recordSpawn(id, pid, c.current_run_id);
  return c.current_run_id;
}

/** The worker of `id` exits with `code` (and left `output` in its log); the crash sweep sees it. */
async function exits(id: string, pid: number, code: number, output: string | null = null, codes = {}) {
  const run = await claim(id, pid);
  const out = await board.detectCrashedWorkers({
    exitStatus: (p) => (p === pid ? { code, signal: null } : undefined),
    outputTail: (t) => (t === id ? output : null),
    exitCodes: codes,
  });
  return { run, out };
}

async function events(id: string, kind: string) {
  return (await board.listEvents(id)).filter((e) => e.kind === kind);
}

/** The guard holding `id` (lane and motion agreeing). */
const hold = (id: string) => guardHold(board, id, FACTS);

describe("the transient text rule", () => {
  it.each([
    "Error: 503 Service Unavailable",
    "API error: status 529 overloaded_error",
    "HTTP 502 Bad Gateway",
    "upstream returned status code 504",
    "server error 500 from provider",
    "Anthropic API is overloaded, please retry",
    "request failed: read ECONNRESET",
    "connect ECONNREFUSED 127.0.0.1:443",
    "getaddrinfo EAI_AGAIN api.example.com",
    "getaddrinfo ENOTFOUND api.example.com",
    "Error: socket hang up",
    "TypeError: Network Error",
    "Connection reset by peer",
    "504 Gateway Timeout",
  ])("reads %j as transient", (text) => {
    expect(isTransientFailureText(text)).toBe(true);
  });

  it.each([
    "pid 12 exited with code 1",
    "SyntaxError at line 503",
    "processed 500 files, 2 failed",
    "AssertionError: expected 3 to be 4",
    "the service is available again",
    "",
  ])("does not read %j as transient", (text) => {
    expect(isTransientFailureText(text)).toBe(false);
  });

  it("classifies stored runs: the metadata's class wins, older runs by outcome and markers", () => {
    expect(failureClassOf({ outcome: "crashed", metadata: { failure_class: "transient" } })).toBe("transient");
    expect(failureClassOf({ outcome: "crashed", metadata: { protocol_violation: true } })).toBe("protocol_violation");
    expect(failureClassOf({ outcome: "crashed", metadata: null })).toBe("crashed");
    expect(failureClassOf({ outcome: "spawn_failed", metadata: { infrastructure: true } })).toBe("infrastructure");
    expect(failureClassOf({ outcome: "spawn_failed" })).toBe("spawn_failed");
    expect(failureClassOf({ outcome: "rate_limited" })).toBe("rate_limited");
    expect(failureClassOf({ outcome: "timed_out" })).toBe("timed_out");
    expect(failureClassOf({ outcome: "completed" })).toBeNull();
    expect(failureClassOf({ outcome: "crashed", metadata: { failure_class: "made_up" } })).toBe("crashed");
  });
});

describe("transient (exit 69, or a crash whose output shows a provider or network failure)", () => {
  it("exit 69: run crashed with failure_class transient, nothing counted, held by transient_cooldown, then allowed", async () => {
    const id = await create({ max_retries: 1 });
    const { run, out } = await exits(id, 700, TRANSIENT_EXIT_CODE);
    expect(out).toMatchObject({ crashed: [], transient: [id], auto_blocked: [] });
    const r = await board.getRun(run);
    expect(r).toMatchObject({ outcome: "crashed", status: "crashed" });
    expect(r.metadata).toMatchObject({ failure_class: "transient", transient_streak: 1 });
    expect(await board.getTask(id)).toMatchObject({ status: "ready", consecutive_failures: 0 });
    const [ev] = await events(id, "crashed");
    const cooldown = transientCooldownSeconds(id, 1);
    expect(ev?.payload).toMatchObject({
      failure_class: "transient",
      exit_code: TRANSIENT_EXIT_CODE,
      respawn_hold: { reason: "transient_cooldown", seconds: cooldown },
    });
    const ended = r.ended_at as number;
    expect(await hold(id)).toEqual({ guard: "transient_cooldown", until: ended + cooldown });
    expect((await board.explainMotion(id, FACTS)).line).toMatch(/transient_cooldown.*provider or the network/);
    board.clock.advance(ended + cooldown - board.clock.seconds);
    expect(await hold(id)).toEqual({ guard: null, until: null });
    // max_retries 1 would have tripped on the first counted failure: nothing was counted.
    expect(await events(id, "gave_up")).toEqual([]);
  });

  it("a crash whose last output reads like a 503 is transient; one whose output does not is a counted crash", async () => {
    const flaky = await create();
    await exits(flaky, 710, 1, "calling the model…\nError: 503 Service Unavailable\n");
    expect(await board.getTask(flaky)).toMatchObject({ consecutive_failures: 0 });
    const [ev] = await events(flaky, "crashed");
    expect(ev?.payload).toMatchObject({ failure_class: "transient", worker_output: expect.stringContaining("503") });

    const broken = await create();
    await exits(broken, 711, 1, "TypeError: cannot read properties of undefined");
    expect(await board.getTask(broken)).toMatchObject({ consecutive_failures: 1 });
    const [crash] = await events(broken, "crashed");
    expect(crash?.payload).toMatchObject({ failure_class: "crashed" });
    expect((await board.listRuns(broken))[0]?.metadata).toMatchObject({ failure_class: "crashed" });
  });

  it("the cooldown doubles per transient run in a row, capped at 15 min, and a counted crash breaks the streak", async () => {
    const id = await create({ max_retries: 10 });
    const seen: number[] = [];
    for (let i = 0; i < 6; i++) {
      const { run } = await exits(id, 720 + i, TRANSIENT_EXIT_CODE);
      const r = await board.getRun(run);
      expect(r.metadata).toMatchObject({ transient_streak: i + 1 });
      const h = await hold(id);
      expect(h.guard).toBe("transient_cooldown");
      seen.push((h.until as number) - (r.ended_at as number));
      board.clock.advance(TRANSIENT_COOLDOWN_MAX_SECONDS * 2);
    }
    const j = 1 + RATE_LIMIT_COOLDOWN_JITTER;
    expect(seen[0]).toBeLessThanOrEqual(Math.round(TRANSIENT_COOLDOWN_BASE_SECONDS * j));
    for (let i = 1; i < 5; i++) expect(seen[i]).toBe(transientCooldownSeconds(id, i + 1));
    expect(seen[1]).toBeGreaterThan(seen[0] as number);
    expect(seen[4]).toBe(seen[5]); // 60·2^4 = 960 > 900: capped
    expect(seen[5]).toBeLessThanOrEqual(Math.round(TRANSIENT_COOLDOWN_MAX_SECONDS * j));
    await exits(id, 730, 1);
    const { run } = await exits(id, 731, TRANSIENT_EXIT_CODE);
    expect((await board.getRun(run)).metadata).toMatchObject({ transient_streak: 1 });
    expect(await board.getTask(id)).toMatchObject({ consecutive_failures: 1 });
  });

  it("past 10 in a row each transient run is counted, so a card cannot retry for ever; its trip is revivable", async () => {
    const id = await create({ max_retries: 2 });
    for (let i = 0; i < TRANSIENT_STREAK_UNCOUNTED; i++) {
      await exits(id, 800 + i, TRANSIENT_EXIT_CODE);
      board.clock.advance(TRANSIENT_COOLDOWN_MAX_SECONDS * 2);
    }
    expect(await board.getTask(id)).toMatchObject({ status: "ready", consecutive_failures: 0 });
    const { run } = await exits(id, 820, TRANSIENT_EXIT_CODE);
    expect((await board.getRun(run)).metadata).toMatchObject({ failure_class: "transient", counted: true });
    expect(await board.getTask(id)).toMatchObject({ status: "ready", consecutive_failures: 1 });
    board.clock.advance(TRANSIENT_COOLDOWN_MAX_SECONDS * 2);
    expect((await exits(id, 821, TRANSIENT_EXIT_CODE)).out.auto_blocked).toEqual([id]);
    expect((await events(id, "gave_up"))[0]?.payload).toMatchObject({ trigger_outcome: "transient" });
    expect((await board.explainMotion(id, FACTS)).detail.auto_revive).toMatchObject({ state: "pending", attempt: 1 });
  });

  it("the exit codes are configurable: 42 is then transient and 69 an ordinary crash", async () => {
    const a = await create();
    await exits(a, 740, 42, null, { transient: 42 });
    expect((await events(a, "crashed"))[0]?.payload).toMatchObject({ failure_class: "transient" });
    const b = await create();
    await exits(b, 741, TRANSIENT_EXIT_CODE, null, { transient: 42 });
    expect((await events(b, "crashed"))[0]?.payload).toMatchObject({ failure_class: "crashed" });
    const c = await create();
    const { out } = await exits(c, 742, 13, null, { rateLimit: 13 });
    expect(out.rate_limited).toEqual([c]);
  });
});

describe("protocol violations leave a comment", () => {
  it("with the worker's last output (≤2,000 chars) and what happens next", async () => {
    const id = await create({ max_retries: 2 });
    await exits(id, 750, 0, `${"x".repeat(5000)}I think I am done`);
    const [first] = await board.listComments(id);
    expect(first?.author).toBe("dispatcher");
    expect(first?.body).toMatch(/^Protocol violation: pid 750 exited with code 0/);
    expect(first?.body).toContain("I think I am done");
    expect(first?.body).not.toContain("x".repeat(2001));
    expect(first?.body).toMatch(/requeued and will be tried again/);
    await exits(id, 751, 0, "bye");
    const second = (await board.listComments(id))[1];
    expect(second?.body).toMatch(/The card is now blocked/);
    expect((await board.getTask(id))?.status).toBe("blocked");
  });
});

describe("respawn spread after a mass failure in one tick (respawn_jitter)", () => {
  it("two timeouts in one sweep: each run holds its own share of min(60 s, interval × N), stated on the event", async () => {
    const ids = [await create({ max_runtime_seconds: 10 }), await create({ max_runtime_seconds: 10 })];
    const runs = [await claim(ids[0] as string, 760), await claim(ids[1] as string, 761)];
    board.clock.advance(11);
    const out = await board.enforceMaxRuntime({ tickIntervalSeconds: 60 });
    expect(out.timed_out.sort()).toEqual([...ids].sort());
    for (const [i, id] of ids.entries()) {
      const r = await board.getRun(runs[i] as number);
      const jitter = respawnJitterSeconds(id, runs[i] as number, 2, 60) as number;
      expect(jitter).toBeGreaterThanOrEqual(0);
      expect(jitter).toBeLessThanOrEqual(RESPAWN_JITTER_MAX_SECONDS);
      expect(r.metadata).toMatchObject({ failure_class: "timed_out", respawn_jitter_seconds: jitter });
      const [ev] = await events(id, "timed_out");
      expect(ev?.payload).toMatchObject({ respawn_hold: { reason: "respawn_jitter", seconds: jitter } });
      if (jitter > 0) {
        expect(await hold(id)).toEqual({ guard: "respawn_jitter", until: (r.ended_at as number) + jitter });
      }
    }
    board.clock.advance(RESPAWN_JITTER_MAX_SECONDS);
    for (const id of ids) expect((await hold(id)).guard).toBeNull();
  });

  it("a single timeout gets no spread; a short tick interval narrows it", async () => {
    const id = await create({ max_runtime_seconds: 10 });
    const run = await claim(id, 770);
    board.clock.advance(11);
    await board.enforceMaxRuntime();
    expect((await board.getRun(run)).metadata).toEqual({ failure_class: "timed_out" });
    expect((await hold(id)).guard).toBeNull();
    for (let i = 0; i < 20; i++) expect(respawnJitterSeconds(`t_${i}`, i, 2, 5)).toBeLessThanOrEqual(10);
    expect(respawnJitterSeconds("t_x", 1, 1, 60)).toBeNull();
    const spread = new Set(Array.from({ length: 20 }, (_, i) => respawnJitterSeconds(`t_${i}`, 1, 6, 60)));
    expect(spread.size).toBeGreaterThan(5);
  });

  it("two crashes with the same fingerprint in one sweep get the hold too", async () => {
    const ids = [await create({ assignee: "a" }), await create({ assignee: "b" })];
    const runs = [await claim(ids[0] as string, 780), await claim(ids[1] as string, 781)];
    board.clock.advance(DEFAULT_CRASH_GRACE_SECONDS + 1);
    await board.detectCrashedWorkers({ exitStatus: () => ({ code: 2, signal: null }), tickIntervalSeconds: 60 });
    for (const [i, id] of ids.entries()) {
      const jitter = respawnJitterSeconds(id, runs[i] as number, 2, 60);
      // A spread that rounds to 0 s (about 1 id in 120, the ids being random) holds nothing and is not recorded.
      const spread = jitter ? { respawn_jitter_seconds: jitter } : {};
      expect((await board.getRun(runs[i] as number)).metadata).toEqual({ failure_class: "crashed", ...spread });
      expect(await board.getTask(id)).toMatchObject({ status: "ready", consecutive_failures: 1 });
    }
  });
});

describe("default max runtime", () => {
  it("applies to a task that sets none; the profile's limit wins over it; 0 turns it off", async () => {
    const plain = await create();
    const profiled = await create({ assignee: "slow" });
    const own = await create({ max_runtime_seconds: 1000 });
    await claim(plain, 790);
    await claim(profiled, 791);
    await claim(own, 792);
    board.clock.advance(101);
    expect((await board.enforceMaxRuntime({ defaultMaxRuntimeSeconds: 0 })).timed_out).toEqual([]);
    const out = await board.enforceMaxRuntime({
      defaultMaxRuntimeSeconds: 100,
      profileMaxRuntimeSeconds: { slow: 500 },
    });
    expect(out.timed_out).toEqual([plain]);
    expect((await events(plain, "timed_out"))[0]?.payload).toMatchObject({
      limit_seconds: 100,
      limit_source: "default",
    });
    expect((await board.getTask(plain))?.last_failure_error).toMatch(/limit 100s \(default max runtime\)/);
    board.clock.advance(400);
    const later = await board.enforceMaxRuntime({
      defaultMaxRuntimeSeconds: 100,
      profileMaxRuntimeSeconds: { slow: 500 },
    });
    expect(later.timed_out).toEqual([profiled]);
    expect((await events(profiled, "timed_out"))[0]?.payload).toMatchObject({ limit_source: "profile" });
  });
});

describe("auto-revive", () => {
  /** Trips the breaker of a fresh task (limit 2) with two counted crashes. */
  async function tripped(): Promise<string> {
    const id = await create();
    await board.recordTaskFailure(id, { error: "pid 1 exited with code 3", outcome: "crashed" });
    await board.recordTaskFailure(id, { error: "pid 2 exited with code 3", outcome: "crashed" });
    expect((await board.getTask(id))?.status).toBe("blocked");
    return id;
  }

  it("revives after 10 min, 30 min, 2 h, one attempt each; then stays blocked with one final event", async () => {
    const id = await tripped();
    const cooldowns = DEFAULT_AUTO_REVIVE_COOLDOWNS_SECONDS;
    for (const [i, cooldown] of cooldowns.entries()) {
      const trippedAt = board.clock.seconds;
      const motion = await board.explainMotion(id, FACTS);
      expect(motion.code).toBe("breaker_tripped");
      expect(motion.line).toMatch(new RegExp(`held: auto_revive at .*revive ${i + 1} of 3`));
      expect(motion.detail.auto_revive).toMatchObject({ state: "pending", at: trippedAt + cooldown, attempt: i + 1 });
      board.clock.advance(cooldown - 1);
      expect(await board.reviveBrokenCards()).toEqual({ revived: [], exhausted: [] });
      expect(await board.recomputeReady()).toBe(0);
      board.clock.advance(1);
      expect(await board.reviveBrokenCards()).toEqual({ revived: [id], exhausted: [] });
      expect((await board.getTask(id))?.status).toBe("ready");
      const ev = (await events(id, "auto_revived")).at(-1);
      expect(ev?.payload).toEqual({ attempt: i + 1, max: 3, cooldown_seconds: cooldown, trigger_outcome: "crashed" });
      // One more attempt: the next counted failure blocks it again.
      await board.recordTaskFailure(id, { error: "pid 3 exited with code 3", outcome: "crashed" });
      expect((await board.getTask(id))?.status).toBe("blocked");
    }
    board.clock.advance(86_400);
    expect(await board.reviveBrokenCards()).toEqual({ revived: [], exhausted: [id] });
    expect(await board.reviveBrokenCards()).toEqual({ revived: [], exhausted: [] });
    expect((await events(id, "auto_revive_exhausted")).map((e) => e.payload)).toEqual([
      expect.objectContaining({ revives: 3, max: 3, trigger_outcome: "crashed" }),
    ]);
    expect((await board.getTask(id))?.status).toBe("blocked");
    expect((await board.explainMotion(id, FACTS)).line).toMatch(/no more automatic revives \(3 of 3 used\)/);
  });

  it("the motion uses the dispatcher's settings when the host passes them (and says nothing with max 0)", async () => {
    const id = await tripped();
    const at = board.clock.seconds;
    const custom = await board.explainMotion(id, { ...FACTS, autoRevive: { cooldowns: [60], max: 5 } });
    expect(custom.detail.auto_revive).toMatchObject({ at: at + 60, attempt: 1, max: 5 });
    const off = await board.explainMotion(id, { ...FACTS, autoRevive: { max: 0 } });
    expect(off.detail.auto_revive).toBeUndefined();
    expect(off.next).toMatch(/kanban unblock/);
  });

  it("a person's unblock starts the count again", async () => {
    const id = await tripped();
    board.clock.advance(600);
    await board.reviveBrokenCards();
    await board.recordTaskFailure(id, { error: "pid 3 exited with code 3", outcome: "crashed" });
    await board.unblockTask(id);
    await board.recordTaskFailure(id, { error: "pid 4 exited with code 3", outcome: "crashed" });
    await board.recordTaskFailure(id, { error: "pid 5 exited with code 3", outcome: "crashed" });
    expect((await board.getTask(id))?.status).toBe("blocked");
    board.clock.advance(600);
    expect((await board.reviveBrokenCards()).revived).toEqual([id]);
    expect((await events(id, "auto_revived")).at(-1)?.payload).toMatchObject({ attempt: 1, cooldown_seconds: 600 });
  });

  it("never revives a sticky trip, a worker's own block, or with max 0; honours custom cooldowns", async () => {
    const sticky = await create();
    await board.recordTaskFailure(sticky, { error: "systemic", outcome: "crashed", forceTrip: true });
    const own = await create();
    await board.recordTaskFailure(own, { error: "pid 1 exited with code 3", outcome: "crashed" });
    await board.blockTask(own, { reason: "need a key" });
    const violated = await create();
    await board.recordTaskFailure(violated, { error: "x", outcome: "protocol_violation" });
    await board.recordTaskFailure(violated, { error: "x", outcome: "protocol_violation" });
    const crashed = await tripped();
    board.clock.advance(10);
    expect(await board.reviveBrokenCards({ max: 0 })).toEqual({ revived: [], exhausted: [] });
    expect(await board.reviveBrokenCards({ cooldowns: [10] })).toEqual({ revived: [crashed], exhausted: [] });
    for (const id of [sticky, own, violated]) expect((await board.getTask(id))?.status).toBe("blocked");
    expect(await events(sticky, "auto_revived")).toEqual([]);
  });

  it("the rule reads only the trip and what came after the last unblock", () => {
    const cfg = normaliseAutoRevive({ cooldowns: [5, 50], max: 2 });
    const trip = (at: number, p: Record<string, unknown>) => ({
      kind: "gave_up",
      payload: JSON.stringify(p),
      created_at: at,
    });
    expect(judgeRevive([trip(100, { trigger_outcome: "timed_out" })], cfg)).toMatchObject({ due_at: 105, attempt: 1 });
    expect(
      judgeRevive(
        [
          trip(300, { trigger_outcome: "spawn_failed" }),
          { kind: "auto_revived", payload: null, created_at: 200 },
          trip(100, { trigger_outcome: "spawn_failed" }),
        ],
        cfg,
      ),
    ).toMatchObject({ due_at: 350, attempt: 2 });
    expect(judgeRevive([trip(1, { trigger_outcome: "crashed", failure_class: "transient" })], cfg)).toMatchObject({
      trigger_outcome: "transient",
    });
    expect(judgeRevive([trip(1, { trigger_outcome: "reclaimed" })], cfg)).toBeNull();
    expect(judgeRevive([trip(1, { trigger_outcome: "spawn_failed", permanent: true })], cfg)).toBeNull();
    expect(
      judgeRevive([{ kind: "blocked", payload: null, created_at: 2 }, trip(1, { trigger_outcome: "crashed" })], cfg),
    ).toBeNull();
  });
});
