import { beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_CLAIM_TTL_SECONDS, DEFAULT_CRASH_GRACE_SECONDS, STALE_HEARTBEAT_GAP_SECONDS } from "./constants.ts";
import type { ExitStatus } from "./recovery.ts";
import { rawSql, type TestBoard } from "./testing/index.ts";
import { caught, mapInOrder, useTestBoards } from "./testing/helpers.ts";

const boards = useTestBoards();

// Worker liveness is an injected probe: a pid is "alive" while it is in this set.
const alive = new Set<number>();
let board: TestBoard;
beforeEach(() => {
  alive.clear();
  board = boards({ isPidAlive: (pid) => alive.has(pid) });
});

const LOCK = "testhost:4242";

/** A claimed task whose worker has pid `pid` (recorded as the dispatcher does after spawning). */
async function running(
  opts: { pid?: number; claimer?: string; max_runtime_seconds?: number; max_retries?: number; title?: string } = {},
): Promise<{
  id: string;
  runId: number;
}> {
  const task = await board.createTask({
    title: opts.title ?? "work",
    assignee: "coder",
    max_runtime_seconds: opts.max_runtime_seconds,
    max_retries: opts.max_retries,
  });
  return { id: task.id, runId: await claimAgain(task.id, opts) };
}

async function claimAgain(id: string, opts: { pid?: number; claimer?: string } = {}): Promise<number> {
  const claim = await board.claimTask(id, { claimer: opts.claimer });
  if (!claim || claim.current_run_id === null) throw new Error("claim failed");
  if (opts.pid !== undefined) await board.recordSpawn(id, opts.pid, claim.current_run_id);
  return claim.current_run_id;
}

async function lastEvent(id: string, kind: string) {
  const ev = (await board.listEvents(id)).filter((e) => e.kind === kind);
  return ev[ev.length - 1];
}

describe("releaseStaleClaims", () => {
  it("extends an expired claim whose host-local worker is alive and heartbeating (claim_extended), instead of reclaiming", async () => {
    const { id, runId } = await running({ pid: 700 });
    alive.add(700);
    const expiresWas = (await board.getTask(id))?.claim_expires;
    board.clock.advance(DEFAULT_CLAIM_TTL_SECONDS - 50);
    await board.heartbeatWorker(id, { expected_run_id: runId });
    const heartbeatAt = board.clock.seconds;
    board.clock.advance(60);

    const out = await board.releaseStaleClaims();
    expect(out).toEqual({ reclaimed: [], extended: [id], terminate: [] });
    const now = board.clock.seconds;
    expect(await board.getTask(id)).toMatchObject({
      status: "running",
      claim_lock: LOCK,
      claim_expires: now + DEFAULT_CLAIM_TTL_SECONDS,
      current_run_id: runId,
    });
    expect((await board.getRun(runId)).claim_expires).toBe(now + DEFAULT_CLAIM_TTL_SECONDS);
    const ev = await lastEvent(id, "claim_extended");
    expect(ev?.run_id).toBe(runId);
    expect(ev?.payload).toEqual({
      reason: "pid_alive",
      worker_pid: 700,
      claim_lock: LOCK,
      claim_expires_was: expiresWas,
      claim_expires_now: now + DEFAULT_CLAIM_TTL_SECONDS,
      last_heartbeat_at: heartbeatAt,
    });
  });

  it("extends an alive host-local worker that has never heartbeated (no heartbeat is not a stale heartbeat)", async () => {
    const { id } = await running({ pid: 701 });
    alive.add(701);
    board.clock.advance(DEFAULT_CLAIM_TTL_SECONDS + 1);
    expect((await board.releaseStaleClaims()).extended).toEqual([id]);
  });

  it("leaves a claim whose lease has not expired alone", async () => {
    const { id } = await running({ pid: 702 });
    board.clock.advance(DEFAULT_CLAIM_TTL_SECONDS - 1);
    expect(await board.releaseStaleClaims()).toEqual({ reclaimed: [], extended: [], terminate: [] });
    expect((await board.getTask(id))?.status).toBe("running");
  });

  it("reclaims an expired claim whose worker is dead: ready, run closed reclaimed, diagnostic reclaimed event", async () => {
    const { id, runId } = await running({ pid: 703 });
    const expires = (await board.getTask(id))?.claim_expires;
    board.clock.advance(DEFAULT_CLAIM_TTL_SECONDS + 1);
    const now = board.clock.seconds;

    const out = await board.releaseStaleClaims();
    expect(out).toEqual({ reclaimed: [id], extended: [], terminate: [] });
    expect(await board.getTask(id)).toMatchObject({
      status: "ready",
      claim_lock: null,
      claim_expires: null,
      worker_pid: null,
      current_run_id: null,
    });
    const payload = {
      stale_lock: LOCK,
      worker_pid: 703,
      claim_expires: expires,
      last_heartbeat_at: null,
      now,
      host_local: true,
      heartbeat_stale: false,
    };
    expect(await board.getRun(runId)).toMatchObject({
      status: "reclaimed",
      outcome: "reclaimed",
      error: `stale_lock=${LOCK}`,
      metadata: payload,
      ended_at: now,
    });
    expect(await lastEvent(id, "reclaimed")).toMatchObject({ run_id: runId, payload });
  });

  it("reclaims a claim held from another host even though its pid looks alive here, and asks to terminate nothing", async () => {
    const { id } = await running({ pid: 704, claimer: "otherhost:99" });
    alive.add(704);
    board.clock.advance(DEFAULT_CLAIM_TTL_SECONDS + 1);
    const out = await board.releaseStaleClaims();
    expect(out).toEqual({ reclaimed: [id], extended: [], terminate: [] });
    expect((await lastEvent(id, "reclaimed"))?.payload).toMatchObject({
      stale_lock: "otherhost:99",
      host_local: false,
    });
  });

  it("reclaims an alive worker whose last heartbeat is over an hour old and reports its pid for termination", async () => {
    const { id, runId } = await running({ pid: 705 });
    alive.add(705);
    board.clock.advance(10);
    await board.heartbeatWorker(id, { expected_run_id: runId });
    board.clock.advance(STALE_HEARTBEAT_GAP_SECONDS + 1);
    const out = await board.releaseStaleClaims();
    expect(out).toEqual({ reclaimed: [id], extended: [], terminate: [{ pid: 705, lock: LOCK }] });
    expect((await lastEvent(id, "reclaimed"))?.payload).toMatchObject({ heartbeat_stale: true, worker_pid: 705 });
  });

  it("counts each automatic reclaim against the breaker, so a claim->expire loop trips it (B fix)", async () => {
    const { id } = await running({ pid: 706 });
    board.clock.advance(DEFAULT_CLAIM_TTL_SECONDS + 1);
    await board.releaseStaleClaims();
    expect(await board.getTask(id)).toMatchObject({
      status: "ready",
      consecutive_failures: 1,
      last_failure_error: `claim expired (lock ${LOCK})`,
    });

    await claimAgain(id, { pid: 707 });
    board.clock.advance(DEFAULT_CLAIM_TTL_SECONDS + 1);
    await board.releaseStaleClaims();
    expect(await board.getTask(id)).toMatchObject({ status: "blocked", consecutive_failures: 2 });
    expect((await lastEvent(id, "gave_up"))?.payload).toMatchObject({
      failures: 2,
      effective_limit: 2,
      limit_source: "dispatcher",
      trigger_outcome: "reclaimed",
    });
  });
});

describe("detectCrashedWorkers", () => {
  it("requeues a running task whose host-local worker died: crashed event and run, one failure counted", async () => {
    const { id, runId } = await running({ pid: 800 });
    board.clock.advance(DEFAULT_CRASH_GRACE_SECONDS + 1);
    const out = await board.detectCrashedWorkers();
    expect(out).toEqual({ crashed: [id], protocol_violations: [], rate_limited: [], transient: [], auto_blocked: [] });
    expect(await board.getTask(id)).toMatchObject({
      status: "ready",
      claim_lock: null,
      worker_pid: null,
      current_run_id: null,
      consecutive_failures: 1,
      last_failure_error: "pid 800 not alive",
    });
    expect(await board.getRun(runId)).toMatchObject({
      status: "crashed",
      outcome: "crashed",
      error: "pid 800 not alive",
    });
    expect(await lastEvent(id, "crashed")).toMatchObject({
      run_id: runId,
      payload: expect.objectContaining({ pid: 800, claimer: LOCK }),
    });
  });

  it("gives a freshly started attempt a grace period before declaring it crashed", async () => {
    const { id } = await running({ pid: 801 });
    board.clock.advance(DEFAULT_CRASH_GRACE_SECONDS - 1);
    expect((await board.detectCrashedWorkers()).crashed).toEqual([]);
    expect((await board.detectCrashedWorkers({ graceSeconds: 10 })).crashed).toEqual([id]);
  });

  it("treats exit code 0 while the task is still running as a protocol violation: requeued and counted, not tripped (spec 2.10 [B])", async () => {
    const { id, runId } = await running({ pid: 802 });
    board.clock.advance(DEFAULT_CRASH_GRACE_SECONDS + 1);
    const out = await board.detectCrashedWorkers({
      exitStatus: () => ({ code: 0, signal: null }),
      outputTail: (task) => (task === id ? `${"y".repeat(3000)}last words` : null),
    });
    expect(out).toEqual({ crashed: [], protocol_violations: [id], rate_limited: [], transient: [], auto_blocked: [] });
    expect(await board.getTask(id)).toMatchObject({ status: "ready", consecutive_failures: 1 });
    const ev = await lastEvent(id, "protocol_violation");
    expect(ev).toMatchObject({
      run_id: runId,
      payload: expect.objectContaining({ pid: 802, claimer: LOCK, exit_code: 0, protocol_violation: true }),
    });
    // The worker's last output rides on the event, cut to its end.
    const output = String(ev?.payload?.worker_output);
    expect([output.length, output.endsWith("last words")]).toEqual([2000, true]);
    expect((await board.getRun(runId)).metadata).toEqual({
      failure_class: "protocol_violation",
      protocol_violation: true,
    });
    expect(await lastEvent(id, "gave_up")).toBeUndefined();
  });

  it.each<[string, ExitStatus | undefined, string]>([
    ["a non-zero exit code", { code: 3, signal: null }, "pid 803 exited with code 3"],
    ["a signal", { code: null, signal: "SIGKILL" }, "pid 803 killed by signal SIGKILL"],
    ["no exit status at all", undefined, "pid 803 not alive"],
  ])("describes %s in the crash error and counts one failure without tripping", async (_what, exit, message) => {
    const { id, runId } = await running({ pid: 803 });
    board.clock.advance(DEFAULT_CRASH_GRACE_SECONDS + 1);
    const out = await board.detectCrashedWorkers({ exitStatus: (pid) => (pid === 803 ? exit : undefined) });
    expect(out.auto_blocked).toEqual([]);
    expect((await board.getRun(runId)).error).toBe(message);
    expect(await board.getTask(id)).toMatchObject({
      status: "ready",
      consecutive_failures: 1,
      last_failure_error: message,
    });
  });

  it("trips every task at once when three or more crash with the same fingerprint in one sweep (systemic)", async () => {
    const ids = await mapInOrder([810, 811, 812], async (pid) => (await running({ pid, title: `t${pid}` })).id);
    board.clock.advance(DEFAULT_CRASH_GRACE_SECONDS + 1);
    const out = await board.detectCrashedWorkers({ exitStatus: () => ({ code: 127, signal: null }) });
    expect(out.crashed.sort()).toEqual([...ids].sort());
    expect(out.auto_blocked.sort()).toEqual([...ids].sort());
    for (const id of ids) {
      expect(await board.getTask(id)).toMatchObject({ status: "blocked", consecutive_failures: 1 });
      expect((await lastEvent(id, "gave_up"))?.payload).toMatchObject({ systemic: true, trigger_outcome: "crashed" });
    }
    // Tripping "at once" means the next tick does not put them straight back in the queue.
    await board.recomputeReady();
    for (const id of ids) expect((await board.getTask(id))?.status).toBe("blocked");
  });

  it("keeps the normal retry budget when only two tasks share a crash fingerprint", async () => {
    const ids = await mapInOrder([820, 821], async (pid) => (await running({ pid, title: `t${pid}` })).id);
    board.clock.advance(DEFAULT_CRASH_GRACE_SECONDS + 1);
    const out = await board.detectCrashedWorkers({ exitStatus: () => ({ code: 127, signal: null }) });
    expect(out.auto_blocked).toEqual([]);
    for (const id of ids) expect(await board.getTask(id)).toMatchObject({ status: "ready", consecutive_failures: 1 });
  });

  it("ignores live workers, workers on other hosts and claims with no recorded pid", async () => {
    const live = await running({ pid: 830 });
    alive.add(830);
    const foreign = await running({ pid: 831, claimer: "otherhost:1" });
    const noPid = await running();
    board.clock.advance(DEFAULT_CRASH_GRACE_SECONDS + 1);
    expect(await board.detectCrashedWorkers()).toEqual({
      crashed: [],
      protocol_violations: [],
      rate_limited: [],
      transient: [],
      auto_blocked: [],
    });
    for (const t of [live, foreign, noPid]) expect((await board.getTask(t.id))?.status).toBe("running");
  });
});

describe("enforceMaxRuntime", () => {
  it("times out an attempt past max_runtime_seconds: ready, run timed_out, timed_out event, pid reported, one failure", async () => {
    const { id, runId } = await running({ pid: 900, max_runtime_seconds: 60 });
    await board.heartbeatWorker(id, { expected_run_id: runId });
    board.clock.advance(60);
    expect((await board.enforceMaxRuntime()).timed_out).toEqual([]); // exactly at the limit is still allowed
    board.clock.advance(1);
    const out = await board.enforceMaxRuntime();
    expect(out).toEqual({ timed_out: [id], auto_blocked: [], terminate: [{ pid: 900, lock: LOCK }] });
    expect(await board.getTask(id)).toMatchObject({
      status: "ready",
      claim_lock: null,
      worker_pid: null,
      last_heartbeat_at: null,
      current_run_id: null,
      consecutive_failures: 1,
      last_failure_error: "elapsed 61s > limit 60s",
    });
    expect(await board.getRun(runId)).toMatchObject({
      status: "timed_out",
      outcome: "timed_out",
      error: "elapsed 61s > limit 60s",
    });
    expect(await lastEvent(id, "timed_out")).toMatchObject({
      run_id: runId,
      payload: { pid: 900, elapsed_seconds: 61, limit_seconds: 60 },
    });
  });

  it("measures the limit from the current attempt's start, so a retry gets a fresh window", async () => {
    const { id } = await running({ pid: 901, max_runtime_seconds: 60 });
    board.clock.advance(50);
    await board.reclaimTask(id, { reason: "retry" });
    await claimAgain(id, { pid: 902 });
    board.clock.advance(40); // 90 s since the task first started, 40 s into this attempt
    expect((await board.enforceMaxRuntime()).timed_out).toEqual([]);
    board.clock.advance(21);
    expect((await board.enforceMaxRuntime()).timed_out).toEqual([id]);
    expect((await lastEvent(id, "timed_out"))?.payload).toMatchObject({ elapsed_seconds: 61 });
  });

  it("never times out a task without max_runtime_seconds", async () => {
    const { id } = await running({ pid: 903 });
    board.clock.advance(7 * 86_400);
    expect((await board.enforceMaxRuntime()).timed_out).toEqual([]);
    expect((await board.getTask(id))?.status).toBe("running");
  });

  it("trips the breaker on the second consecutive timeout at the default limit", async () => {
    const { id } = await running({ pid: 904, max_runtime_seconds: 60 });
    board.clock.advance(61);
    await board.enforceMaxRuntime();
    await claimAgain(id, { pid: 905 });
    board.clock.advance(61);
    const out = await board.enforceMaxRuntime();
    expect(out.auto_blocked).toEqual([id]);
    expect(await board.getTask(id)).toMatchObject({ status: "blocked", consecutive_failures: 2 });
    expect((await lastEvent(id, "gave_up"))?.payload).toMatchObject({ trigger_outcome: "timed_out", failures: 2 });
  });
});

describe("detectStaleRunning", () => {
  it("is disabled when the timeout is 0 or negative", async () => {
    const { id } = await running({ pid: 950 });
    board.clock.advance(10 * 86_400);
    expect(await board.detectStaleRunning(0)).toEqual({ stale: [], terminate: [] });
    expect(await board.detectStaleRunning(-5)).toEqual({ stale: [], terminate: [] });
    expect((await board.getTask(id))?.status).toBe("running");
  });

  it("requeues a task running past the timeout with no heartbeat: run and event stale, not counted as a failure", async () => {
    const { id, runId } = await running({ pid: 951 });
    board.clock.advance(4 * 3600 + 1);
    const out = await board.detectStaleRunning(4 * 3600);
    expect(out).toEqual({ stale: [id], terminate: [{ pid: 951, lock: LOCK }] });
    expect(await board.getTask(id)).toMatchObject({
      status: "ready",
      claim_lock: null,
      consecutive_failures: 0,
      last_failure_error: null,
    });
    expect(await board.getRun(runId)).toMatchObject({ status: "stale", outcome: "stale" });
    expect((await lastEvent(id, "stale"))?.payload).toMatchObject({
      elapsed_seconds: 4 * 3600 + 1,
      last_heartbeat_at: null,
      heartbeat_age_seconds: null,
      timeout_seconds: 4 * 3600,
      pid: 951,
    });
  });

  it("requeues a task whose last heartbeat is more than an hour old", async () => {
    const { id, runId } = await running({ pid: 952 });
    board.clock.advance(3600);
    await board.heartbeatWorker(id, { expected_run_id: runId });
    board.clock.advance(STALE_HEARTBEAT_GAP_SECONDS + 1);
    expect((await board.detectStaleRunning(3600)).stale).toEqual([id]);
    expect((await lastEvent(id, "stale"))?.payload).toMatchObject({
      heartbeat_age_seconds: STALE_HEARTBEAT_GAP_SECONDS + 1,
    });
  });

  it("spares a long-running task that heartbeated within the last hour", async () => {
    const { id, runId } = await running({ pid: 953 });
    board.clock.advance(5 * 3600);
    await board.heartbeatWorker(id, { expected_run_id: runId });
    board.clock.advance(30 * 60);
    expect((await board.detectStaleRunning(4 * 3600)).stale).toEqual([]);
    expect((await board.getTask(id))?.status).toBe("running");
  });

  it("measures from the current attempt, and only past the exact timeout and heartbeat gap", async () => {
    const { id } = await running({ pid: 956 });
    board.clock.advance(10 * 3600);
    await board.reclaimTask(id);
    const again = await board.claimTask(id, { claimer: LOCK });
    expect(again?.started_at).toBeLessThan(board.clock.seconds - 3600); // the task's first start is old…
    board.clock.advance(3600);
    expect((await board.detectStaleRunning(3600)).stale).toEqual([]); // …but this attempt is exactly one hour old
    await board.heartbeatWorker(id, { expected_run_id: again?.current_run_id });
    board.clock.advance(STALE_HEARTBEAT_GAP_SECONDS);
    expect((await board.detectStaleRunning(3600)).stale).toEqual([]); // heartbeat exactly at the gap
    board.clock.advance(1);
    expect((await board.detectStaleRunning(3600)).stale).toEqual([id]);
  });

  it("spares a task that started less than the timeout ago, and tasks that are not running", async () => {
    const young = await running({ pid: 954 });
    const blocked = await running({ pid: 955 });
    await board.blockTask(blocked.id, { reason: "r" });
    board.clock.advance(3000);
    expect((await board.detectStaleRunning(3600)).stale).toEqual([]);
    expect((await board.getTask(young.id))?.status).toBe("running");
    expect((await board.getTask(blocked.id))?.status).toBe("blocked");
  });
});

describe("reclaimTask (operator)", () => {
  it("releases a live claim at once: ready, run reclaimed, reclaimed event with manual:true, worker pid reported", async () => {
    const { id, runId } = await running({ pid: 960 });
    alive.add(960);
    const out = await board.reclaimTask(id, { reason: "stuck on a prompt" });
    expect(out.terminate).toEqual({ pid: 960, lock: LOCK });
    expect(out.task).toMatchObject({
      status: "ready",
      claim_lock: null,
      claim_expires: null,
      worker_pid: null,
      current_run_id: null,
    });
    expect(await board.getRun(runId)).toMatchObject({
      status: "reclaimed",
      outcome: "reclaimed",
      error: "manual_reclaim: stuck on a prompt",
    });
    expect(await lastEvent(id, "reclaimed")).toMatchObject({
      run_id: runId,
      payload: { manual: true, reason: "stuck on a prompt", prev_lock: LOCK, worker_pid: 960 },
    });
  });

  it("records the previous lock in the run error when no reason is given", async () => {
    const { id, runId } = await running();
    const out = await board.reclaimTask(id);
    expect(out.terminate).toBeNull();
    expect((await board.getRun(runId)).error).toBe(`manual_reclaim lock=${LOCK}`);
    expect((await lastEvent(id, "reclaimed"))?.payload).toMatchObject({ manual: true, reason: null });
  });

  it("refuses a task that is not running with the spec's text, and an unknown id", async () => {
    const task = await board.createTask({ title: "idle" });
    const err = await caught(async () => await board.reclaimTask(task.id));
    expect(err.code).toBe("WRONG_STATE");
    expect(err.message).toBe(`cannot reclaim ${task.id}: not in a claimable state (not running, or unknown id)`);
    expect((await board.getTask(task.id))?.status).toBe("ready");
    expect((await caught(async () => await board.reclaimTask("t_00000000"))).code).toBe("NOT_FOUND");
  });

  it("gives the task a fresh retry budget (failure counter reset)", async () => {
    const { id } = await running({ pid: 961 });
    await board.recordTaskFailure(id, { error: "crash", outcome: "crashed" });
    expect((await board.getTask(id))?.consecutive_failures).toBe(1);
    expect((await board.reclaimTask(id)).task).toMatchObject({ consecutive_failures: 0, last_failure_error: null });
  });
});

describe("terminateRun (fenced on the named run)", () => {
  it("reclaims the task while the run is its current one and hands back the worker to stop", async () => {
    const { id, runId } = await running({ pid: 4321 });
    alive.add(4321);
    const out = await board.terminateRun(runId, { reason: "  operator stop " });
    expect(out).toMatchObject({ run_id: runId, task: { id, status: "ready", current_run_id: null } });
    expect(out.terminate?.pid).toBe(4321);
    expect(await board.getRun(runId)).toMatchObject({ outcome: "reclaimed", error: "manual_reclaim: operator stop" });
    expect((await lastEvent(id, "reclaimed"))?.payload).toMatchObject({ manual: true, reason: "operator stop" });
  });

  it("without a reason, the reclaim names the run", async () => {
    const { runId } = await running();
    await board.terminateRun(runId);
    expect((await board.getRun(runId)).error).toBe(`manual_reclaim: run ${runId} terminated`);
  });

  it("refuses a run whose task moved on to a newer attempt and leaves that attempt running", async () => {
    const { id, runId: first } = await running();
    await board.reclaimTask(id);
    const second = await claimAgain(id, { claimer: "w:2" });
    // Seeded: the named run still reads as open (the race the old read-then-reclaim lost).
    await rawSql(board).run("UPDATE task_runs SET ended_at = NULL WHERE id = ?", first);
    const err = await caught(async () => await board.terminateRun(first));
    expect(err.code).toBe("WRONG_STATE");
    expect(err.message).toBe(`run ${first} is not the current run of task ${id}; nothing was reclaimed`);
    expect(await board.getTask(id)).toMatchObject({ status: "running", current_run_id: second, claim_lock: "w:2" });
    expect((await board.getRun(second)).ended_at).toBeNull();
  });

  it("an ended run is WRONG_STATE and an unknown run NOT_FOUND", async () => {
    const { id, runId } = await running();
    await board.reclaimTask(id);
    await claimAgain(id);
    expect(await caught(async () => await board.terminateRun(runId))).toMatchObject({
      code: "WRONG_STATE",
      message: `run ${runId} already ended (reclaimed)`,
    });
    expect((await caught(async () => await board.terminateRun(987654))).code).toBe("NOT_FOUND");
  });
});
