import { expect } from "vitest";
import { rawSql, type TestBoard } from "./index.ts";

/**
 * Checks that the claim of `alone` (sent as one message) wrote what the claim of `full` (the full
 * way, at the same clock, by `claimer`) wrote: the task row, its run and its `claimed` event, all but
 * the ids alike. `answered` is the task the claim returned, which must be the row as stored.
 */
export async function expectClaimedAlike(
  b: TestBoard,
  ids: { full: string; alone: string },
  answered: unknown,
  claimer: string,
): Promise<void> {
  const [full, alone] = [await b.requireTask(ids.full), await b.requireTask(ids.alone)];
  // The claim answers the row as the swap returned it (requireTask adds labels and warnings).
  const { requires: _requires, warnings: _warnings, ...stored } = alone;
  expect(answered).toEqual(stored);
  const sameAs = (t: typeof full) => ({ ...t, id: "", title: "", current_run_id: 0, created_at: 0 });
  expect(sameAs(alone)).toEqual(sameAs(full));
  const runs = await rawSql(b).all<Record<string, unknown>>(
    "SELECT task_id, profile, step_key, status, claim_lock, claim_expires, max_runtime_seconds, started_at, ended_at, outcome FROM task_runs WHERE task_id IN (?, ?) ORDER BY id",
    ids.full,
    ids.alone,
  );
  expect(runs).toHaveLength(2);
  const fullRun = runs.find((r) => r.task_id === ids.full);
  const aloneRun = runs.find((r) => r.task_id === ids.alone);
  expect({ ...aloneRun, task_id: ids.full }).toEqual(fullRun);
  const claimed = await rawSql(b).all<{ task_id: string; run_id: number; payload: string; created_at: number }>(
    "SELECT task_id, run_id, payload, created_at FROM task_events WHERE kind = 'claimed' AND task_id IN (?, ?) ORDER BY id",
    ids.full,
    ids.alone,
  );
  const of = (id: string) => claimed.find((e) => e.task_id === id);
  expect(Number(of(ids.full)?.run_id)).toBe(full.current_run_id);
  expect(Number(of(ids.alone)?.run_id)).toBe(alone.current_run_id);
  expect(of(ids.alone)?.payload).toBe(
    JSON.stringify({ lock: claimer, expires: alone.claim_expires, run_id: alone.current_run_id }),
  );
  expect(of(ids.alone)?.created_at).toBe(of(ids.full)?.created_at);
}
