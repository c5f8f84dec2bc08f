// `npm run bench:async -w @kanban/bench -- [--rev <commit>]… [--tree <label>=<dir>]… [--no-work-tree]
//   [--rounds n] [--seconds s] [--only a,b]`
//
// The SQLite figures of several kernels side by side in one run: by default the last synchronous
// kernel (96132bf, the commit before "The store becomes async") against this work tree. Each
// `--rev` adds a commit's tree (extracted with `git archive` into the temp dir, the work tree's
// node_modules beside it); the work tree is always the last column. Issue 14's bar: no figure more
// than 10 % worse than the synchronous kernel.
//
// Each measurement runs in a fresh process, and each figure is the median of its rounds: on a shared
// machine the load drifts over minutes, and measured one kernel after the other a figure moved more
// than the difference sought. The single-process and HTTP scenarios run every tree at the same time
// (see TOGETHER); the 8-process one a tree at a time, in alternating order (A B C, C B A, …).
// Besides throughput, CPU time per operation is reported where the process doing the work can
// measure it: it is what the async store adds, and the machine's other work disturbs it less.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { median, round } from "./stats.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "..", "..", "..");
const workerScript = path.join(here, "async-compare-worker.ts");

/** The last commit whose kernel was synchronous (the parent of 33fd028, "The store becomes async"). */
export const SYNC_KERNEL = "96132bf";

export const SCENARIOS = ["create", "cycle-normal", "cycle-full", "http-create", "contention"] as const;
export type Scenario = (typeof SCENARIOS)[number];
const UNIT: Record<Scenario, string> = {
  create: "tasks/s",
  "cycle-normal": "cycles/s",
  "cycle-full": "cycles/s",
  "http-create": "req/s",
  contention: "claims/s",
};
const TITLE: Record<Scenario, string> = {
  create: "create, one transaction each (synchronous=FULL)",
  "cycle-normal": "claim+complete, synchronous=NORMAL",
  "cycle-full": "claim+complete, synchronous=FULL",
  "http-create": "HTTP tasks.create, 10 connections",
  contention: "8 processes claiming one file",
};

/**
 * Scenarios run for every tree at the same time: the kernels then share the same load from the
 * machine's other work, second by second, and differ only by their own cost (on a shared 2-core
 * machine, measured one after the other, two runs of the same tree differed by 2× in throughput and
 * 50 % in CPU per operation). HTTP: a server per tree, each under its own autocannon from this
 * process. The 8-process scenario runs one tree at a time: 8 claimers per tree at once would be
 * another scenario.
 */
const TOGETHER = new Set<Scenario>(["create", "cycle-normal", "cycle-full", "http-create"]);

export interface Tree {
  label: string;
  root: string;
}

/**
 * A commit's source tree, runnable: `git archive` of the packages into the temp dir (kept between
 * runs, keyed by the full hash), with a node_modules whose @kanban packages are that tree's own and
 * every other package the work tree's installed one (the dependencies' versions did not change).
 */
export function treeAt(rev: string): Tree {
  const sha = execFileSync("git", ["rev-parse", "--verify", `${rev}^{commit}`], { cwd: repo, encoding: "utf8" }).trim();
  const root = path.join(os.tmpdir(), "kanban-async-compare", sha);
  if (!fs.existsSync(path.join(root, ".ready"))) {
    fs.rmSync(root, { recursive: true, force: true });
    fs.mkdirSync(root, { recursive: true });
    const tar = execFileSync("git", ["archive", sha, "packages", "tooling/tsconfig", "package.json"], {
      cwd: repo,
      maxBuffer: 1 << 30,
    });
    execFileSync("tar", ["-x", "-C", root], { input: tar });
    const modules = path.join(root, "node_modules");
    fs.mkdirSync(path.join(modules, "@kanban"), { recursive: true });
    for (const entry of fs.readdirSync(path.join(repo, "node_modules"))) {
      if (entry === "@kanban" || entry === ".bin") continue;
      fs.symlinkSync(path.join(repo, "node_modules", entry), path.join(modules, entry));
    }
    for (const pkg of fs.readdirSync(path.join(root, "packages"))) {
      const manifest = path.join(root, "packages", pkg, "package.json");
      if (!fs.existsSync(manifest)) continue;
      const name = (JSON.parse(fs.readFileSync(manifest, "utf8")) as { name: string }).name;
      fs.symlinkSync(path.join(root, "packages", pkg), path.join(modules, name));
    }
    fs.symlinkSync(path.join(root, "tooling", "tsconfig"), path.join(modules, "@kanban", "tsconfig"));
    fs.writeFileSync(path.join(root, ".ready"), sha);
  }
  return { label: sha.slice(0, 7), root };
}

const childEnv = () => ({ ...process.env, NODE_OPTIONS: "--conditions=@kanban/source", KANBAN_TEST_STORE: "sqlite" });

/** Runs the worker to completion; its one JSON line. */
function worker(tree: Tree, scenario: string, arg: number, dir: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", workerScript, tree.root, scenario, String(arg), dir], {
      stdio: ["ignore", "pipe", "inherit"],
      env: childEnv(),
    });
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 ? resolve(JSON.parse(out.trim())) : reject(new Error(`${tree.label} ${scenario}: exit ${code}`)),
    );
  });
}

/** The worker as a server: resolves once it listens, with its URL and a probe of its CPU time (µs). */
function serve(tree: Tree, dir: string): Promise<{ url: string; child: ChildProcess; cpu(): Promise<number> }> {
  const child = spawn(process.execPath, ["--import", "tsx", workerScript, tree.root, "serve", "0", dir], {
    stdio: ["pipe", "pipe", "inherit"],
    env: childEnv(),
  });
  const answers: ((line: string) => void)[] = [];
  let url: ((u: string) => void) | null = null;
  let buf = "";
  child.stdout.on("data", (d) => {
    buf += d;
    for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (url) url(line);
      else answers.shift()?.(line);
    }
  });
  const cpu = () =>
    new Promise<number>((resolve) => {
      answers.push((line) => resolve((JSON.parse(line) as { cpu_us: number }).cpu_us));
      child.stdin.write("cpu\n");
    });
  return new Promise((resolve, reject) => {
    url = (line) => {
      url = null;
      resolve({ url: (JSON.parse(line) as { url: string }).url, child, cpu });
    };
    child.on("exit", (code) => reject(new Error(`${tree.label} server exited ${code}`)));
  });
}

function cannon(opts: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(opts, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

async function httpCreate(tree: Tree, seconds: number, dir: string): Promise<Figure> {
  const { url, child, cpu } = await serve(tree, dir);
  try {
    const opts = {
      url: `${url}/trpc/tasks.create`,
      method: "POST" as const,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ title: "bench write", assignee: "nobody" }),
      connections: 10,
    };
    await cannon({ ...opts, duration: 1 }); // warm-up: the server's JIT, the board's first open
    const cpu0 = await cpu();
    const r = await cannon({ ...opts, duration: seconds });
    const cpuUs = (await cpu()) - cpu0;
    if (r.non2xx > 0 || r.errors > 0)
      throw new Error(`${tree.label} HTTP create: ${r.non2xx} non-2xx, ${r.errors} errors`);
    // autocannon counts answered requests by class; every one was a 2xx (checked above).
    const answered = (r as unknown as { "2xx": number })["2xx"];
    return { per_s: r.requests.average, cpu_us: cpuUs / answered };
  } finally {
    child.kill("SIGKILL");
  }
}

/** 8 claimer processes of the tree's own claim-worker.ts, released together (start-up not timed). */
async function contention(tree: Tree, tasks: number, dir: string): Promise<Figure> {
  await worker(tree, "seed", tasks, dir);
  const file = path.join(dir, "contention.db");
  const script = path.join(tree.root, "packages", "kernel", "test", "claim-worker.ts");
  const claimers = Array.from({ length: 8 }, (_, i) => {
    const child = spawn(process.execPath, ["--import", "tsx", script, file, `p${i}`, "stdin"], {
      stdio: ["pipe", "pipe", "inherit"],
      env: childEnv(),
    });
    let out = "";
    let markReady = () => {};
    const ready = new Promise<void>((r) => {
      markReady = r;
    });
    const done = new Promise<number>((resolve, reject) => {
      child.stdout.on("data", (d) => {
        out += d;
        if (out.startsWith("ready\n")) markReady();
      });
      child.on("exit", (code) =>
        code === 0
          ? resolve((JSON.parse(out.slice("ready\n".length)) as { won: string[] }).won.length)
          : reject(new Error(`${tree.label} claimer exited ${code}`)),
      );
    });
    return { ready: Promise.race([ready, done]), done, go: () => child.stdin.end("go\n") };
  });
  await Promise.all(claimers.map((c) => c.ready));
  const t0 = performance.now();
  for (const c of claimers) c.go();
  const won = (await Promise.all(claimers.map((c) => c.done))).reduce((a, b) => a + b, 0);
  const secs = (performance.now() - t0) / 1000;
  if (won !== tasks) throw new Error(`${tree.label} contention: ${won} claims of ${tasks} tasks`);
  return { per_s: won / secs, cpu_us: null };
}

/** Operations per second, and the CPU time each cost the process doing them (µs; null when not measured). */
type Figure = { per_s: number; cpu_us: number | null };

async function measure(tree: Tree, scenario: Scenario, seconds: number): Promise<Figure> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kanban-async-"));
  try {
    if (scenario === "http-create") return await httpCreate(tree, seconds, dir);
    // About 2 s of claims at the rates seen on this machine; every task is claimed once.
    if (scenario === "contention") return await contention(tree, Math.round(seconds * 1_000), dir);
    return (await worker(tree, scenario, seconds, dir)) as Figure;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export interface CompareRow {
  scenario: Scenario;
  title: string;
  unit: string;
  /**
   * Per tree, in the order given: every round's figure, their median and its change against the
   * first tree's; the same for the CPU time per operation (µs) where it is measured.
   */
  trees: {
    label: string;
    rounds: number[];
    median: number;
    change_pct: number;
    cpu_us_median: number | null;
    cpu_change_pct: number | null;
  }[];
}

export async function compareKernels(opts: {
  trees: Tree[];
  scenarios: readonly Scenario[];
  rounds: number;
  seconds: number;
  log?: (line: string) => void;
}): Promise<CompareRow[]> {
  const figures = new Map<string, Figure[]>();
  for (let r = 0; r < opts.rounds; r++) {
    // Alternate the order, so that a kernel is not always measured right after the same other one.
    const order = r % 2 === 0 ? opts.trees : [...opts.trees].reverse();
    for (const scenario of opts.scenarios) {
      const record = (tree: Tree, f: Figure) => {
        const cpu = f.cpu_us === null ? "" : `, ${round(f.cpu_us)} µs CPU each`;
        opts.log?.(`round ${r + 1} ${scenario} ${tree.label}: ${round(f.per_s)} ${UNIT[scenario]}${cpu}`);
        const key = `${scenario}\0${tree.label}`;
        figures.set(key, [...(figures.get(key) ?? []), f]);
      };
      if (TOGETHER.has(scenario)) {
        const together = await Promise.all(order.map((tree) => measure(tree, scenario, opts.seconds)));
        for (const [i, tree] of order.entries()) record(tree, together[i] as Figure);
      } else {
        for (const tree of order) record(tree, await measure(tree, scenario, opts.seconds));
      }
    }
  }
  return opts.scenarios.map((scenario) => {
    const of = (t: Tree) => figures.get(`${scenario}\0${t.label}`) ?? [];
    const medians = opts.trees.map((t) => median(of(t).map((f) => f.per_s)));
    const cpus = opts.trees.map((t) => {
      const xs = of(t).flatMap((f) => (f.cpu_us === null ? [] : [f.cpu_us]));
      return xs.length === 0 ? null : median(xs);
    });
    const base = medians[0] as number;
    const cpuBase = cpus[0] ?? null;
    return {
      scenario,
      title: TITLE[scenario],
      unit: UNIT[scenario],
      trees: opts.trees.map((t, i) => {
        const c = cpus[i] ?? null;
        return {
          label: t.label,
          rounds: of(t).map((f) => round(f.per_s)),
          median: round(medians[i] as number),
          change_pct: round(((medians[i] as number) / base - 1) * 100),
          cpu_us_median: c === null ? null : round(c),
          // Positive is better, as for the throughput: less CPU per operation.
          cpu_change_pct: c === null || cpuBase === null ? null : round((cpuBase / c - 1) * 100),
        };
      }),
    };
  });
}

const signed = (pct: number) => `${pct >= 0 ? "+" : "−"}${Math.abs(pct)} %`;

/**
 * The Markdown table: a row per scenario, a column per tree: the median throughput (its change
 * against the first tree) and, where measured, the median CPU time per operation (its change as a
 * speed: +10 % is 10 % more operations per CPU second).
 */
export function compareMarkdown(rows: CompareRow[], rounds: number): string {
  const labels = rows[0]?.trees.map((t) => t.label) ?? [];
  const lines = [
    `| figure (median of ${rounds} interleaved rounds; CPU µs per operation) | ${labels.join(" | ")} |`,
    `| --- | ${labels.map(() => "---").join(" | ")} |`,
  ];
  for (const row of rows) {
    const cells = row.trees.map((t, i) => {
      const cpu = t.cpu_us_median === null ? "" : `; ${t.cpu_us_median} µs`;
      if (i === 0) return `${t.median} ${row.unit}${cpu}`;
      const cpuChange = t.cpu_change_pct === null ? "" : ` (${signed(t.cpu_change_pct)})`;
      return `${t.median} (${signed(t.change_pct)})${cpu}${cpuChange}`;
    });
    lines.push(`| ${row.title} | ${cells.join(" | ")} |`);
  }
  return `${lines.join("\n")}\n`;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const flag = (name: string) => {
    const at = args.indexOf(name);
    return at >= 0 ? args[at + 1] : undefined;
  };
  const revs = args.flatMap((a, i) => (a === "--rev" && args[i + 1] ? [args[i + 1] as string] : []));
  const only = flag("--only")?.split(",") ?? [...SCENARIOS];
  const bad = only.filter((s) => !(SCENARIOS as readonly string[]).includes(s));
  if (bad.length > 0) {
    process.stderr.write(`async-compare: unknown scenario ${bad.join(", ")} (known: ${SCENARIOS.join(", ")})\n`);
    process.exit(2);
  }
  const rounds = Number(flag("--rounds") ?? 5);
  const seconds = Number(flag("--seconds") ?? 2);
  // `--tree <label>=<dir>`: a source tree of your own (an experiment), measured after the revisions.
  const own = args.flatMap((a, i) => {
    const spec = a === "--tree" ? args[i + 1] : undefined;
    if (spec === undefined) return [];
    const at = spec.indexOf("=");
    return [{ label: spec.slice(0, at), root: path.resolve(spec.slice(at + 1)) }];
  });
  // `--no-work-tree`: commits only (a work tree shared with others holds their unfinished changes).
  const work = args.includes("--no-work-tree") ? [] : [{ label: "work tree", root: repo }];
  const trees = [...(revs.length > 0 ? revs : [SYNC_KERNEL]).map(treeAt), ...own, ...work];
  const rows = await compareKernels({
    trees,
    scenarios: only as Scenario[],
    rounds,
    seconds,
    log: (l) => process.stderr.write(`${l}\n`),
  });
  process.stderr.write(`${JSON.stringify(rows)}\n`);
  process.stdout.write(compareMarkdown(rows, rounds));
}
