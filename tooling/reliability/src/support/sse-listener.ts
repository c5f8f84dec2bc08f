import { performance } from "node:perf_hooks";

/** One event as the stream delivered it, with when this process read it (performance.now()). */
export interface Arrival {
  at: number;
  event: { id: number; task_id: string; kind: string };
}

export interface SseListener {
  arrivals: Arrival[];
  /** How the stream ended, null while it is open: "done" (the server ended it) or the read's error. */
  ended(): string | null;
  /** Resolves with the first arrival matching `match` (already read or still to come). */
  waitFor(match: (a: Arrival) => boolean, timeoutMs: number): Promise<Arrival>;
  close(): void;
}

/**
 * Subscribes to `events.subscribe` (tRPC over SSE, as the board and `kanban watch` do) with a plain
 * fetch, and keeps every event with the moment it was read, so a test can measure how long a write
 * took to reach a subscriber. Resolves once the response headers arrived (the subscription is
 * registered by then only in the server's own time: callers should see one event through before
 * they time anything).
 */
export async function listenToEvents(base: string, input: Record<string, unknown>): Promise<SseListener> {
  const controller = new AbortController();
  const url = new URL(`${base}/trpc/events.subscribe`);
  url.searchParams.set("input", JSON.stringify(input));
  const res = await fetch(url, { headers: { accept: "text/event-stream" }, signal: controller.signal });
  if (res.status !== 200 || !res.body) throw new Error(`events.subscribe answered ${res.status}`);
  const arrivals: Arrival[] = [];
  const waiters = new Set<() => void>();
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  let ended: string | null = null;
  void (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) {
          ended = "done";
          return;
        }
        const at = performance.now();
        buf += decoder.decode(value, { stream: true });
        let end = buf.indexOf("\n\n");
        while (end >= 0) {
          const block = buf.slice(0, end);
          buf = buf.slice(end + 2);
          end = buf.indexOf("\n\n");
          // Only data blocks (the connected/ping blocks carry `event:` lines and no task).
          if (/^event:/m.test(block)) continue;
          const data = block
            .split("\n")
            .filter((l) => l.startsWith("data:"))
            .map((l) => l.slice(5).trimStart())
            .join("\n");
          if (!data) continue;
          const event = JSON.parse(data) as Arrival["event"];
          if (typeof event.task_id === "string") arrivals.push({ at, event });
        }
        for (const w of waiters) w();
      }
    } catch (err) {
      // aborted by close(), or the server went away: the arrivals so far stay readable
      ended = String((err as Error).message);
    }
  })();
  return {
    arrivals,
    ended: () => ended,
    waitFor: (match, timeoutMs) =>
      new Promise<Arrival>((resolve, reject) => {
        const check = () => {
          const hit = arrivals.find(match);
          if (!hit) return false;
          clearTimeout(timer);
          waiters.delete(onData);
          resolve(hit);
          return true;
        };
        const onData = () => void check();
        const timer = setTimeout(() => {
          waiters.delete(onData);
          reject(new Error(`no matching event within ${timeoutMs} ms (${arrivals.length} events read)`));
        }, timeoutMs);
        if (!check()) waiters.add(onData);
      }),
    close: () => controller.abort(),
  };
}
