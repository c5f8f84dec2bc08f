// The CLI's start-up cost, as an agent pays it on every call: the bundled `kanban` (as installed: no
// src/ beside bin/, so bin/kanban.mjs runs dist/bundle/main.js on plain Node) against `node -e 1`,
// run interleaved in the same rounds so that a busy machine slows both alike. Wall time and CPU time
// (user + system of the child, from /usr/bin/time, less noisy than wall time) and max RSS per call.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startApiServer } from "./http.ts";
import { percentile, round } from "./stats.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const cliDir = path.join(here, "..", "..", "..", "apps", "cli");

interface Call {
  wallMs: number;
  cpuMs: number;
  rssMb: number;
}

/** One child process under /usr/bin/time: wall time seen from here, CPU and max RSS from its rusage. */
function timed(args: string[], env: NodeJS.ProcessEnv): Call {
  const t0 = performance.now();
  const run = spawnSync("/usr/bin/time", ["-f", "@@%U %S %M", process.execPath, ...args], {
    env,
    encoding: "utf8",
  });
  const wallMs = performance.now() - t0;
  if (run.status !== 0) throw new Error(`${args.join(" ")} exited ${run.status}: ${run.stderr}`);
  const line = run.stderr.split("\n").find((l) => l.startsWith("@@"));
  if (!line) throw new Error(`no rusage from /usr/bin/time: ${run.stderr}`);
  const [user, sys, rssKb] = line.slice(2).split(" ").map(Number) as [number, number, number];
  return { wallMs, cpuMs: (user + sys) * 1000, rssMb: rssKb / 1024 };
}

const median = (xs: number[]) => percentile(xs, 50);

/**
 * The installed layout: a copy of bin/ beside a built dist/ (linked), with no src/. The bundle is
 * built into a directory of its own under the checkout's dist/, not into apps/cli/dist: the pack
 * test empties and rebuilds that one, and the two ran side by side in CI (its rmdir failed with
 * ENOTEMPTY as this build copied the migrations in). Under the checkout, so that the bundle resolves
 * better-sqlite3 from its node_modules (Node follows the link to the real path), as an installed
 * package resolves its own dependencies. `remove` deletes the build.
 */
function installedLayout(dir: string): { bin: string; remove(): void } {
  const checkoutDist = path.join(cliDir, "..", "..", "dist");
  fs.mkdirSync(checkoutDist, { recursive: true });
  const built = fs.mkdtempSync(path.join(checkoutDist, "bench-cli-"));
  const build = spawnSync(process.execPath, [path.join(cliDir, "build", "bundle.mjs"), "--out", built], {
    encoding: "utf8",
  });
  if (build.status !== 0) throw new Error(`bundling the CLI failed: ${build.stderr}`);
  const pkg = path.join(dir, "cli-pkg");
  fs.mkdirSync(path.join(pkg, "bin"), { recursive: true });
  fs.copyFileSync(path.join(cliDir, "bin", "kanban.mjs"), path.join(pkg, "bin", "kanban.mjs"));
  fs.symlinkSync(built, path.join(pkg, "dist"));
  return { bin: path.join(pkg, "bin", "kanban.mjs"), remove: () => fs.rmSync(built, { recursive: true, force: true }) };
}

export interface CliStartRow {
  name: string;
  wall_ms: number;
  cpu_ms: number;
  rss_mb: number;
  ref_wall_ms: number;
  ref_cpu_ms: number;
  ref_rss_mb: number;
  /** Wall time of the command / wall time of `node -e 1`, medians of the same rounds. */
  ratio: number;
  cpu_ratio: number;
}

/** Time from spawning `kanban mcp` to its answer of `initialize`, and of `node -e 1` to its exit. */
function mcpStart(bin: string, env: NodeJS.ProcessEnv): Promise<number> {
  const t0 = performance.now();
  const child: ChildProcess = spawn(process.execPath, [bin, "mcp"], { env, stdio: ["pipe", "pipe", "inherit"] });
  const init = {
    jsonrpc: "2.0",
    id: 1,
    method: "initialize",
    params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "bench", version: "0" } },
  };
  child.stdin?.write(`${JSON.stringify(init)}\n`);
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (d) => {
      out += d;
      if (out.includes("\n")) {
        const ms = performance.now() - t0;
        child.stdin?.end();
        child.once("exit", () => resolve(ms));
      }
    });
    child.once("exit", (code) => {
      if (!out.includes("\n")) reject(new Error(`kanban mcp exited ${code} before answering initialize`));
    });
  });
}

export async function benchCliStart(dir: string, quick: boolean) {
  const layout = installedLayout(dir);
  try {
    return await measureCliStart(dir, layout.bin, quick);
  } finally {
    layout.remove();
  }
}

async function measureCliStart(dir: string, bin: string, quick: boolean) {
  const rounds = quick ? 3 : 15;
  const home = path.join(dir, "cli-home");
  fs.mkdirSync(home, { recursive: true });
  // The CLI keeps V8's compiled code of its chunks in a cache (apps/cli/src/code-cache.ts), written by
  // the first call that loads each chunk (the create below and the warm-up round): the rows measure
  // the calls after it, as an agent's next heartbeat is, and one row the same call without it.
  const local = {
    ...process.env,
    KANBAN_HOME: home,
    KANBAN_URL: "",
    KANBAN_TOKEN: "",
    XDG_CACHE_HOME: path.join(dir, "cli-cache"),
    KANBAN_NO_COMPILE_CACHE: "",
  } as NodeJS.ProcessEnv;
  const created = spawnSync(process.execPath, [bin, "create", "bench start-up card", "--json"], {
    env: local,
    encoding: "utf8",
  });
  if (created.status !== 0) throw new Error(`kanban create failed: ${created.stderr}`);
  const id = (JSON.parse(created.stdout) as { id: string }).id;
  const server = await startApiServer(home);
  try {
    const remote = { ...local, KANBAN_URL: server.url };
    const commands: { name: string; args: string[]; env: NodeJS.ProcessEnv }[] = [
      { name: "kanban show <id>, local SQLite board", args: [bin, "show", id], env: local },
      { name: "kanban show <id>, remote (KANBAN_URL)", args: [bin, "show", id], env: remote },
      { name: "kanban --help", args: [bin, "--help"], env: local },
      {
        name: "kanban show <id>, local, without the compile cache",
        args: [bin, "show", id],
        env: { ...local, KANBAN_NO_COMPILE_CACHE: "1" },
      },
    ];
    // One warm-up of each (the page cache), not counted.
    timed(["-e", "1"], local);
    for (const c of commands) timed(c.args, c.env);
    const ref: Call[] = [];
    const calls: Call[][] = commands.map(() => []);
    const mcp: number[] = [];
    const mcpRef: number[] = [];
    for (let r = 0; r < rounds; r++) {
      ref.push(timed(["-e", "1"], local));
      for (const [i, c] of commands.entries()) calls[i]?.push(timed(c.args, c.env));
      mcpRef.push(timed(["-e", "1"], local).wallMs);
      mcp.push(await mcpStart(bin, local));
    }
    const refWall = median(ref.map((c) => c.wallMs));
    const refCpu = median(ref.map((c) => c.cpuMs));
    const rows: CliStartRow[] = commands.map((c, i) => {
      const sample = calls[i] as Call[];
      const wall = median(sample.map((s) => s.wallMs));
      const cpu = median(sample.map((s) => s.cpuMs));
      return {
        name: c.name,
        wall_ms: round(wall),
        cpu_ms: round(cpu),
        rss_mb: round(Math.max(...sample.map((s) => s.rssMb))),
        ref_wall_ms: round(refWall),
        ref_cpu_ms: round(refCpu),
        ref_rss_mb: round(Math.max(...ref.map((s) => s.rssMb))),
        ratio: round(wall / refWall, 2),
        cpu_ratio: round(cpu / refCpu, 2),
      };
    });
    return {
      rounds,
      rows,
      mcp_start: { p50_ms: round(median(mcp)), max_ms: round(Math.max(...mcp)), ref_wall_ms: round(median(mcpRef)) },
    };
  } finally {
    server.child.kill("SIGTERM");
  }
}

export type CliStart = Awaited<ReturnType<typeof benchCliStart>>;

/** The rows of the bench table (main.ts and cli-start-main.ts print them). */
export function cliStartMarkdownRows(r: CliStart): string[] {
  const lines = r.rows.map(
    (row) =>
      `| CLI cold start: ${row.name} (median of ${r.rounds}; wall / CPU) | ${row.wall_ms} / ${row.cpu_ms} ms | ${row.ref_wall_ms} / ${row.ref_cpu_ms} ms \`node -e 1\` | ${row.ratio} (CPU ${row.cpu_ratio}); target ≤ 3 |`,
  );
  for (const row of r.rows) {
    lines.push(
      `| memory per CLI call: ${row.name} (max RSS) | ${row.rss_mb} MB | ${row.ref_rss_mb} MB \`node -e 1\` | ${round(row.rss_mb / row.ref_rss_mb, 2)} |`,
    );
  }
  lines.push(
    `| MCP start: spawn \`kanban mcp\` → initialize answered (median / max of ${r.rounds}) | ${r.mcp_start.p50_ms} / ${r.mcp_start.max_ms} ms | 500 ms target; \`node -e 1\` ${r.mcp_start.ref_wall_ms} ms | ${round(r.mcp_start.p50_ms / 500, 2)} of target |`,
  );
  return lines;
}

export const tmpBenchDir = () => fs.mkdtempSync(path.join(os.tmpdir(), "kanban-bench-cli-"));
