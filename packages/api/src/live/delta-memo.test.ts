import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { DeltaMemo } from "./delta-memo.ts";

/** A read that the test finishes by hand: what it was asked for, and when it started (fake clock). */
function manualReads() {
  const started: { ids: string[]; at: number; finish(value?: string): void; fail(err: Error): void }[] = [];
  const read = (ids: string[]) =>
    new Promise<string>((resolve, reject) => {
      started.push({
        ids,
        at: Date.now(),
        finish: (value = ids.join(",")) => resolve(value),
        fail: reject,
      });
    });
  return { started, read };
}

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe("DeltaMemo", () => {
  it("viewers of the same view and burst share one read", async () => {
    const memo = new DeltaMemo({ busyShare: 0.25 });
    const { started, read } = manualReads();
    const answers = Array.from({ length: 5 }, () => memo.get("view", "1-2", ["a"], read));
    expect(started).toHaveLength(1);
    started[0]?.finish();
    expect(await Promise.all(answers)).toEqual(["a", "a", "a", "a", "a"]);
    expect(memo.reads).toBe(1);
  });

  it("bursts that arrive during a read wait for it, then one read answers them all, with every id they touched", async () => {
    const memo = new DeltaMemo({ busyShare: 0.25 });
    const { started, read } = manualReads();
    const first = memo.get("view", "1-1", ["a"], read);
    const second = memo.get("view", "2-2", ["b"], read);
    const third = memo.get("view", "3-4", ["c", "b"], read);
    // Another view is not held up by this one.
    const other = memo.get("other view", "3-4", ["c"], read);
    expect(started.map((s) => s.ids)).toEqual([["a"], ["c"]]);
    await vi.advanceTimersByTimeAsync(40);
    started[0]?.finish();
    started[1]?.finish();
    expect(await first).toBe("a");
    expect(await other).toBe("c");
    // The first read took 40 ms: at a quarter of the time, the next starts 120 ms after it ended.
    await vi.advanceTimersByTimeAsync(119);
    expect(started).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(started).toHaveLength(3);
    expect(started[2]?.ids).toEqual(["b", "c"]);
    started[2]?.finish();
    expect(await Promise.all([second, third])).toEqual(["b,c", "b,c"]);
    expect(memo.reads).toBe(3);
  });

  it("a cheap read makes the next wait only a little; a view left alone reads at once", async () => {
    const memo = new DeltaMemo({ busyShare: 0.5 });
    const { started, read } = manualReads();
    const a = memo.get("view", "1-1", ["a"], read);
    await vi.advanceTimersByTimeAsync(2);
    started[0]?.finish();
    await a;
    const b = memo.get("view", "2-2", ["b"], read);
    expect(started).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(2);
    expect(started).toHaveLength(2);
    started[1]?.finish();
    await b;
    await vi.advanceTimersByTimeAsync(1_000);
    memo.get("view", "3-3", ["c"], read).catch(() => {});
    expect(started).toHaveLength(3);
  });

  it("never puts more ids in one read than a delta carries: a burst that would overflow waits for its own", async () => {
    const memo = new DeltaMemo({ busyShare: 1, maxIds: 3 });
    const { started, read } = manualReads();
    const running = memo.get("view", "0-0", ["x"], read);
    const a = memo.get("view", "1-1", ["a", "b"], read);
    const b = memo.get("view", "2-2", ["b", "c"], read);
    const c = memo.get("view", "3-3", ["d"], read);
    started[0]?.finish();
    await running;
    await vi.advanceTimersByTimeAsync(0);
    expect(started[1]?.ids).toEqual(["a", "b", "c"]);
    started[1]?.finish();
    expect(await Promise.all([a, b])).toEqual(["a,b,c", "a,b,c"]);
    await vi.advanceTimersByTimeAsync(0);
    expect(started[2]?.ids).toEqual(["d"]);
    started[2]?.finish();
    expect(await c).toBe("d");
  });

  it("a failed read fails the bursts it answered, is forgotten, and the view's next read still runs", async () => {
    const memo = new DeltaMemo({ busyShare: 1 });
    const { started, read } = manualReads();
    const failing = memo.get("view", "1-1", ["a"], read);
    const waiting = memo.get("view", "2-2", ["b"], read);
    started[0]?.fail(new Error("board closed"));
    await expect(failing).rejects.toThrow("board closed");
    await vi.advanceTimersByTimeAsync(0);
    started[1]?.finish();
    expect(await waiting).toBe("b");
    // The same burst asked again is read again, not answered with the failure.
    const again = memo.get("view", "1-1", ["a"], read);
    await vi.advanceTimersByTimeAsync(0);
    started[2]?.finish();
    expect(await again).toBe("a");
  });
});
