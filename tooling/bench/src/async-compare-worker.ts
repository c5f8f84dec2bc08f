// One measurement of async-compare.ts, in a process of its own, against the kernel of one source
// tree: `async-compare-worker.ts <root> <scenario> <seconds> <dir>`. Prints one JSON line.
//
// It imports the kernel (and the API) from `<root>` by path, so the same script measures the last
// synchronous kernel and the async one: every call is awaited, which costs a synchronous kernel one
// microtask and is what the async kernel's callers do anyway. A process per measurement keeps the
// kernels apart: an AsyncLocalStorage that one of them enabled makes every promise of the process
// costlier, which would be charged to the other one too.
import fs from "node:fs";
import { Session } from "node:inspector/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [rootArg, scenario, secondsArg, dirArg] = process.argv.slice(2);
if (!rootArg || !scenario || !secondsArg || !dirArg) {
  process.stderr.write("usage: async-compare-worker <root> <scenario> <seconds> <dir>\n");
  process.exit(2);
}
const root: string = rootArg;
const dir: string = dirArg;
const seconds = Number(secondsArg);

// The two kernels' surfaces differ only in whether they return promises; this is what both offer.
interface AnyBoard {
  createTask(input: Record<string, unknown>): unknown;
  claimTask(id: string, opts: Record<string, unknown>): unknown;
  completeTask(id: string, opts: Record<string, unknown>): unknown;
  getTask(id: string): unknown;
  close(): void;
}
type Kernel = { openBoard(opts: Record<string, unknown>): AnyBoard };
type Testing = { boardInternals(board: AnyBoard): { ctx: { tx(fn: () => unknown): unknown } } };

const load = async <T>(rel: string): Promise<T> => (await import(pathToFileURL(path.join(root, rel)).href)) as T;
const kernel = await load<Kernel>("packages/kernel/src/index.ts");
// internals.ts, not the testing entry: that one also brings the test helpers (and vitest with them).
const testing = await load<Testing>("packages/kernel/src/testing/internals.ts");

const isThenable = (v: unknown): v is Promise<unknown> => typeof (v as { then?: unknown } | null)?.then === "function";

/** `n` ready tasks in one transaction (not timed); each kernel's own way of nesting verbs in a transaction. */
async function seed(board: AnyBoard, n: number): Promise<string[]> {
  const ids: string[] = [];
  const { ctx } = testing.boardInternals(board);
  const async = isThenable(board.getTask("t_none"));
  if (async) {
    await ctx.tx(async () => {
      for (let i = 0; i < n; i++)
        ids.push(((await board.createTask({ title: `job ${i}`, assignee: "bench" })) as { id: string }).id);
    });
  } else {
    ctx.tx(() => {
      for (let i = 0; i < n; i++)
        ids.push((board.createTask({ title: `job ${i}`, assignee: "bench" }) as { id: string }).id);
    });
  }
  return ids;
}

/**
 * Calls `fn` (awaited) for `secs` seconds: operations per second, and the process's CPU time per
 * operation (µs, user + system), which the other work on a shared machine disturbs less than the
 * wall clock.
 */
async function timed(secs: number, fn: (i: number) => unknown): Promise<{ per_s: number; cpu_us: number }> {
  // ASYNC_COMPARE_PROFILE=<file.cpuprofile>: a CPU profile of the timed part alone (not the seeding).
  const profile = process.env.ASYNC_COMPARE_PROFILE && secs > 0.3 ? new Session() : null;
  if (profile) {
    profile.connect();
    await profile.post("Profiler.enable");
    await profile.post("Profiler.start");
  }
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const end = t0 + secs * 1000;
  let ops = 0;
  while (performance.now() < end) await fn(ops++);
  const cpu = process.cpuUsage(cpu0);
  const elapsed = (performance.now() - t0) / 1000;
  if (profile) {
    const { profile: data } = await profile.post("Profiler.stop");
    fs.writeFileSync(process.env.ASYNC_COMPARE_PROFILE as string, JSON.stringify(data));
  }
  return { per_s: ops / elapsed, cpu_us: (cpu.user + cpu.system) / ops };
}

async function create(): Promise<{ per_s: number; cpu_us: number }> {
  const board = kernel.openBoard({ path: path.join(dir, "create.db"), warn: () => {} });
  // The same inputs as the bench's create figure (create-list.ts).
  const one = (i: number) =>
    board.createTask({ title: `task ${i}`, assignee: i % 3 === 0 ? null : `p${i % 5}`, tenant: i % 2 ? "acme" : null });
  await timed(0.3, one); // warm-up: JIT and statement caches
  const perS = await timed(seconds, one);
  board.close();
  return perS;
}

async function cycle(synchronous: "FULL" | "NORMAL"): Promise<{ per_s: number; cpu_us: number }> {
  const board = kernel.openBoard({ path: path.join(dir, `cycle-${synchronous}.db`), synchronous, warn: () => {} });
  // Enough tasks for the run at well above the fastest rate seen on this machine.
  const ids = await seed(board, Math.ceil((seconds + 0.5) * (synchronous === "NORMAL" ? 5_000 : 3_000)));
  let next = 0;
  const one = async () => {
    const id = ids[next++];
    if (id === undefined) throw new Error("ran out of tasks: raise the seed");
    const t = (await board.claimTask(id, { claimer: "bench:1" })) as { current_run_id: number | null } | null;
    await board.completeTask(id, { summary: "ok", expected_run_id: t?.current_run_id });
  };
  await timed(0.3, one);
  const perS = await timed(seconds, one);
  board.close();
  return perS;
}

let out: Record<string, unknown> = { scenario };
if (scenario === "create") out = { ...out, ...(await create()) };
else if (scenario === "cycle-normal") out = { ...out, ...(await cycle("NORMAL")) };
else if (scenario === "cycle-full") out = { ...out, ...(await cycle("FULL")) };
else if (scenario === "seed") {
  // A board of ready tasks for the contention scenario (`seconds` is the task count here).
  const board = kernel.openBoard({ path: path.join(dir, "contention.db"), warn: () => {} });
  out.tasks = (await seed(board, seconds)).length;
  board.close();
} else if (scenario === "serve") {
  // An API server on a fresh home, for the HTTP scenario: prints its URL and serves until killed.
  const api = await load<{ startServer(o: Record<string, unknown>): Promise<{ url: string }> }>(
    "packages/api/src/index.ts",
  );
  fs.mkdirSync(path.join(dir, "home"), { recursive: true });
  const s = await api.startServer({
    host: "127.0.0.1",
    port: 0,
    location: { home: path.join(dir, "home") },
    logger: { info() {}, warn() {}, error() {} },
  });
  out.url = s.url;
  // Each line on stdin is answered with the server's CPU time so far (µs), so that the parent can
  // charge the requests of its timed run with what they cost the server.
  process.stdin.on("data", () => {
    const c = process.cpuUsage();
    process.stdout.write(`${JSON.stringify({ cpu_us: c.user + c.system })}\n`);
  });
} else {
  process.stderr.write(`async-compare-worker: unknown scenario ${scenario}\n`);
  process.exit(2);
}
process.stdout.write(`${JSON.stringify(out)}\n`);
