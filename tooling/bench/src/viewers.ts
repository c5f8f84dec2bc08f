import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { EventSource } from "eventsource";
import { startApiServer } from "./http.ts";
import { percentile, round } from "./stats.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const kernelSrc = path.join(here, "..", "..", "..", "packages", "kernel", "src", "index.ts");

// Issue 19: what open boards cost the API while a fleet works. N viewers follow the web client's
// protocol over real HTTP and SSE against a server in its own process, while another process makes
// transitions on the board at a fixed rate. Both protocols run in the same bench run, one after the
// other, on the same board:
// - refetch (the board before issue 19): events.subscribe, and after each burst of events (the
//   first at once, then at most one per 150 ms, one read in flight and one queued) board.get and
//   boards.list in one batched request;
// - deltas (now): board.changes, applied in place; boards.list every 10 s.
// Measured: the API process's CPU (utime + stime from /proc, as a share of one core), the bytes each
// viewer receives per minute, and freshness: for each write, the time until the last viewer's state
// covers it (a board read, or a delta, whose cursor reaches the write's event id).

type Protocol = "refetch" | "deltas";

export interface ViewerRow {
  protocol: Protocol;
  viewers: number;
  transitions: number;
  seconds: number;
  api_cpu_share: number;
  bytes_per_viewer_per_min: number;
  freshness_p50_ms: number;
  freshness_p99_ms: number;
  /** Writes every viewer's state covered before the bench gave up waiting (of `transitions`). */
  covered: number;
  board_reads: number;
}

export interface ViewersResult {
  tasks: number;
  rate_per_s: number;
  rows: ViewerRow[];
  /** deltas ÷ refetch, for API CPU and bytes (lower is better). */
  cpu_ratio: number;
  bytes_ratio: number;
}

/** CPU seconds (user + system) a process has used so far. */
function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (which may hold spaces), 1-based: utime is 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** A fetch that counts the bytes of every response body it hands over, streamed ones included. */
function countingFetch(count: (n: number) => void): typeof fetch {
  return async (input, init) => {
    const res = await fetch(input, init);
    if (!res.body) return res;
    const counted = res.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, ctl) {
          count(chunk.byteLength);
          ctl.enqueue(chunk);
        },
      }),
    );
    return new Response(counted, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
}

interface Viewer {
  bytes: number;
  reads: number;
  /** The newest event id this viewer's state covers. */
  cursor: number;
  /** Each advance of the cursor: [event id, when], ids increasing. */
  history: [number, number][];
  ready: boolean;
  close(): void;
}

const BOARD_INPUT = { include_archived: false };

function cover(v: Viewer, id: number): void {
  if (id <= v.cursor) return;
  v.cursor = id;
  v.history.push([id, Date.now()]);
}

/** When the viewer's state first covered event `id` (its first cursor at or past it); Infinity if never. */
function coveredAt(v: Viewer, id: number): number {
  let lo = 0;
  let hi = v.history.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((v.history[mid] as [number, number])[0] >= id) hi = mid;
    else lo = mid + 1;
  }
  return v.history[lo]?.[1] ?? Number.POSITIVE_INFINITY;
}

function startViewer(base: string, protocol: Protocol): Viewer {
  const v: Viewer = { bytes: 0, reads: 0, cursor: 0, history: [], ready: false, close: () => {} };
  const f = countingFetch((n) => {
    v.bytes += n;
  });
  let closed = false;
  const sources: EventSource[] = [];
  let boardsTimer: NodeJS.Timeout | null = null;

  /** board.get (+ boards.list, batched, as the web client's invalidations go out together). */
  const readBoard = async (withBoards: boolean): Promise<number> => {
    const paths = withBoards ? "board.get,boards.list" : "board.get";
    const input = withBoards ? { 0: BOARD_INPUT, 1: {} } : { 0: BOARD_INPUT };
    const res = await f(`${base}/${paths}?batch=1&input=${encodeURIComponent(JSON.stringify(input))}`);
    const body = (await res.json()) as { result: { data: { latest_event_id: number } } }[];
    v.reads++;
    return body[0]?.result.data.latest_event_id ?? 0;
  };
  const subscribe = (procedure: string, input: object, onMessage: (id: number, data: string) => void) => {
    const url = `${base}/${procedure}?input=${encodeURIComponent(JSON.stringify(input))}`;
    const es = new EventSource(url, { fetch: f as never });
    es.addEventListener("connected", () => {
      v.ready = true;
    });
    es.onmessage = (m) => onMessage(Number(m.lastEventId), m.data);
    sources.push(es);
  };

  void (async () => {
    const first = await readBoard(true);
    v.cursor = first;
    if (closed) return;
    if (protocol === "deltas") {
      subscribe("board.changes", { ...BOARD_INPUT, after: first }, (id) => cover(v, id));
      boardsTimer = setInterval(() => {
        void f(`${base}/boards.list?input=${encodeURIComponent("{}")}`).then((r) => r.text());
      }, 10_000);
      return;
    }
    // The refetch protocol: the old EventBatcher and useRefresh, event for event.
    let timer: NodeJS.Timeout | null = null;
    let lastFlush = Number.NEGATIVE_INFINITY;
    let inFlight = false;
    let queued = false;
    const reload = async (): Promise<void> => {
      if (inFlight) {
        queued = true;
        return;
      }
      inFlight = true;
      try {
        const id = await readBoard(true);
        cover(v, id);
      } catch {
        // a read cut short by the end of the run
      } finally {
        inFlight = false;
        if (queued && !closed) {
          queued = false;
          void reload();
        }
      }
    };
    subscribe("events.subscribe", { after: first }, () => {
      if (timer !== null) return;
      timer = setTimeout(
        () => {
          timer = null;
          lastFlush = Date.now();
          void reload();
        },
        Math.max(0, lastFlush + 150 - Date.now()),
      );
    });
  })();
  v.close = () => {
    closed = true;
    for (const es of sources) es.close();
    if (boardsTimer !== null) clearInterval(boardsTimer);
  };
  return v;
}

/**
 * Another process makes `rate` transitions a second for `seconds` (blocks and unblocks of ready
 * cards), stamping each commit. It says `ready` once it has loaded, and `started` is called then: the
 * measured window holds the fleet's transitions, not its process start (~2 s through tsx, a tenth of
 * a 20 s window, which read as an idle API).
 */
function runFleet(home: string, rate: number, seconds: number, started: () => void): Promise<[number, number][]> {
  const script = `
    import { openBoard } from ${JSON.stringify(kernelSrc)};
    const b = openBoard({ location: { home: ${JSON.stringify(home)} }, board: "default", warn: () => {} });
    const ready = (await b.listTasks({ status: "ready" })).slice(0, 50).map((t) => t.id);
    if (ready.length === 0) throw new Error("no ready card to move");
    process.stdout.write("ready\\n");
    const blocked = new Set();
    const out = [];
    const total = ${rate * seconds};
    const start = Date.now();
    for (let i = 0; i < total; i++) {
      const id = ready[i % ready.length];
      if (blocked.has(id)) { await b.unblockTask(id); blocked.delete(id); }
      else { await b.blockTask(id, { reason: "bench" }); blocked.add(id); }
      out.push([await b.latestEventId(), Date.now()]);
      const due = start + ((i + 1) * 1000) / ${rate};
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    for (const id of blocked) await b.unblockTask(id);
    process.stdout.write(JSON.stringify(out));
  `;
  return new Promise((resolve, reject) => {
    const w = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    let begun = false;
    w.stdout.on("data", (d) => {
      out += d;
      if (!begun && out.startsWith("ready\n")) {
        begun = true;
        started();
      }
    });
    w.on("exit", (code) =>
      code === 0 && begun
        ? resolve(JSON.parse(out.slice("ready\n".length)))
        : reject(new Error(`fleet exited ${code}`)),
    );
  });
}

async function measure(home: string, protocol: Protocol, viewers: number, rate: number, seconds: number) {
  const { url, child } = await startApiServer(home);
  const all = Array.from({ length: viewers }, () => startViewer(`${url}/trpc`, protocol));
  try {
    const deadline = Date.now() + 30_000;
    while (all.some((v) => !v.ready) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    if (all.some((v) => !v.ready)) throw new Error(`${protocol}: not every viewer subscribed`);
    for (const v of all) {
      v.bytes = 0;
      v.reads = 0;
    }
    const pid = child.pid as number;
    let cpu0 = cpuSeconds(pid);
    let t0 = Date.now();
    const stamps = await runFleet(home, rate, seconds, () => {
      cpu0 = cpuSeconds(pid);
      t0 = Date.now();
    });
    const last = stamps[stamps.length - 1]?.[0] ?? 0;
    const settle = Date.now() + 10_000;
    while (Date.now() < settle && all.some((v) => v.cursor < last)) await new Promise((r) => setTimeout(r, 20));
    const wall = (Date.now() - t0) / 1000;
    const cpu = cpuSeconds(pid) - cpu0;
    return { stamps, all, wall, cpu };
  } finally {
    for (const v of all) v.close();
    child.kill("SIGKILL");
  }
}

export async function benchViewers(home: string, tasks: number, quick: boolean): Promise<ViewersResult> {
  const viewers = quick ? 10 : 100;
  const seconds = quick ? 4 : 20;
  const rate = 20;
  const rows: ViewerRow[] = [];
  for (const protocol of ["refetch", "deltas"] as const) {
    const { stamps, all, wall, cpu } = await measure(home, protocol, viewers, rate, seconds);
    // Freshness per write: until the last viewer covered it; writes never covered are counted apart.
    const lags = stamps.map(([id, at]) => {
      let latest = 0;
      for (const v of all) latest = Math.max(latest, coveredAt(v, id) - at);
      return latest;
    });
    const finite = lags.filter(Number.isFinite);
    rows.push({
      protocol,
      viewers,
      transitions: stamps.length,
      seconds: round(wall, 1),
      api_cpu_share: round(cpu / wall, 3),
      bytes_per_viewer_per_min: Math.round(all.reduce((n, v) => n + v.bytes, 0) / viewers / (wall / 60)),
      freshness_p50_ms: round(percentile(finite, 50)),
      freshness_p99_ms: round(percentile(finite, 99)),
      covered: finite.length,
      board_reads: all.reduce((n, v) => n + v.reads, 0),
    });
  }
  const [refetch, deltas] = rows as [ViewerRow, ViewerRow];
  return {
    tasks,
    rate_per_s: rate,
    rows,
    cpu_ratio: round(deltas.api_cpu_share / refetch.api_cpu_share, 3),
    bytes_ratio: round(deltas.bytes_per_viewer_per_min / refetch.bytes_per_viewer_per_min, 3),
  };
}

/** The README table's rows. */
export function viewersMarkdownRows(r: ViewersResult): string[] {
  const [refetch, deltas] = r.rows as [ViewerRow, ViewerRow];
  // A protocol whose viewers never all caught up with any write has no freshness to show (its
  // percentiles are of nothing): the table says so rather than "NaN".
  const freshness = (x: ViewerRow) =>
    x.covered === 0
      ? `no write reached every viewer (0/${x.transitions} covered)`
      : `freshness p50 ${x.freshness_p50_ms} / p99 ${x.freshness_p99_ms} ms (${x.covered}/${x.transitions} covered)`;
  const fmt = (x: ViewerRow) =>
    `API CPU ${round(x.api_cpu_share * 100, 1)} % of a core, ${Math.round(x.bytes_per_viewer_per_min / 1024)} KiB per viewer per min, ${freshness(x)}`;
  return [
    `| ${deltas.viewers} viewers on a ${r.tasks}-task board, fleet at ${r.rate_per_s} transitions/s: board by deltas | ${fmt(deltas)} | refetch protocol, same run: ${fmt(refetch)} | CPU ${r.cpu_ratio}, bytes ${r.bytes_ratio}; targets p99 ≤ 1000 ms, CPU ≤ 50 % |`,
  ];
}
