import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createKanbanClient } from "@kanban/api/client";
import { startApiServer } from "./http.ts";
import { percentile, round } from "./stats.ts";

const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * Live events: N subscribers on a real server; another OS process writes comments through the
 * kernel and stamps each commit; latency = last subscriber's receipt − commit time. The reference
 * is the 1 s freshness promise.
 */
export async function benchLive(home: string, quick: boolean) {
  const subscribers = quick ? 20 : 100;
  const writes = quick ? 10 : 40;
  const { url, child } = await startApiServer(home);
  const clients = Array.from({ length: subscribers }, () => createKanbanClient({ url: `${url}/trpc` }));
  const arrivals = new Map<number, number[]>();
  let ready = 0;
  const subs = clients.map((c) =>
    c.events.subscribe.subscribe(
      {},
      {
        onStarted: () => {
          ready++;
        },
        onData: (msg: unknown) => {
          const m = msg as { id?: string; data?: { id?: number; kind?: string } };
          const ev = m.data ?? (m as { id?: number; kind?: string });
          if (ev.kind !== "commented" || typeof ev.id !== "number") return;
          const list = arrivals.get(ev.id) ?? [];
          list.push(Date.now());
          arrivals.set(ev.id, list);
        },
      },
    ),
  );
  const deadline = Date.now() + 20_000;
  while (ready < subscribers && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const writer = `
    import { openBoard } from ${JSON.stringify(path.join(here, "..", "..", "..", "packages", "kernel", "src", "index.ts"))};
    const b = openBoard({ location: { home: ${JSON.stringify(home)} }, board: "default", warn: () => {} });
    const t = await b.createTask({ title: "live bench" });
    const out = [];
    for (let i = 0; i < ${writes}; i++) {
      await b.addComment(t.id, "bench", "tick " + i);
      const id = await b.latestEventId();
      out.push([id, Date.now()]);
      await new Promise((r) => setTimeout(r, 100));
    }
    process.stdout.write(JSON.stringify(out));
  `;
  const stamps: [number, number][] = await new Promise((resolve, reject) => {
    const w = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", writer], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    w.stdout.on("data", (d) => {
      out += d;
    });
    w.on("exit", (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`writer exited ${code}`))));
  });
  const settle = Date.now() + 3000;
  while (Date.now() < settle && [...stamps].some(([id]) => (arrivals.get(id)?.length ?? 0) < subscribers))
    await new Promise((r) => setTimeout(r, 50));
  for (const s of subs) s.unsubscribe();
  child.kill("SIGKILL");
  const latencies = stamps.map(([id, at]) => Math.max(...(arrivals.get(id) ?? [Number.POSITIVE_INFINITY])) - at);
  const delivered = stamps.filter(([id]) => (arrivals.get(id)?.length ?? 0) === subscribers).length;
  const p99 = percentile(latencies, 99);
  return {
    subscribers,
    writes,
    fully_delivered: delivered,
    p50_ms: round(percentile(latencies, 50)),
    p99_ms: round(p99),
    ratio_to_1s: round(p99 / 1000, 3),
  };
}
