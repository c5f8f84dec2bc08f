// `npm run bench [-- --quick] [-- --out <dir>] [-- --pg-url <url>] [-- --pg-jobs <n>]`: every figure measured
// side by side with its reference in one run.
// Writes results/<latest|quick>.json and .md (the table the README shows).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { benchBoardGet, benchTick } from "./board-tick.ts";
import { benchContention } from "./claim-contention.ts";
import { benchClaimCycle } from "./claim-cycle.ts";
import { benchClaimTransactions } from "./claim-transactions.ts";
import { benchFlow } from "./flow.ts";
import { benchCliStart, type CliStart, cliStartMarkdownRows } from "./cli-start.ts";
import { benchCreate, seedBoard } from "./create-list.ts";
import { benchHttp } from "./http.ts";
import { benchLive } from "./live.ts";
import { benchPgQueuesOnServer, type PgQueuesOnServer, pgQueueMarkdownRows } from "./pg-queues.ts";
import { benchViewers, type ViewersResult, viewersMarkdownRows } from "./viewers.ts";

/** A copy of a board's home (its board file, compacted, and its config), made while nothing writes it. */
function copyHome(from: string, to: string): void {
  fs.mkdirSync(to);
  const db = new Database(path.join(from, "kanban.db"), { readonly: true });
  try {
    db.exec(`VACUUM INTO '${path.join(to, "kanban.db").replaceAll("'", "''")}'`);
  } finally {
    db.close();
  }
  fs.copyFileSync(path.join(from, "config.json"), path.join(to, "config.json"));
}

const quick = process.argv.includes("--quick");
const here = path.dirname(fileURLToPath(import.meta.url));
// `--out <dir>` writes the results elsewhere (the smoke test does, to leave the committed ones alone).
const outAt = process.argv.indexOf("--out");
const resultsDir =
  outAt > 0 && process.argv[outAt + 1]
    ? path.resolve(process.argv[outAt + 1] as string)
    : path.join(here, "..", "results");
// `--pg-url <url>` measures the PostgreSQL rows on that server (its user needs CREATEDB); else
// KANBAN_TEST_DATABASE_URL, else an embedded PostgreSQL. `--pg-jobs <n>` sets how many jobs each drains,
// `--pg-rounds <n>` how many times each contender drains them (5, or 1 with --quick; medians reported).
const flag = (name: string) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : undefined;
};
const pgUrl = flag("--pg-url");
const pgJobs = flag("--pg-jobs") === undefined ? undefined : Number(flag("--pg-jobs"));
if (pgJobs !== undefined && !(Number.isInteger(pgJobs) && pgJobs > 0)) {
  process.stderr.write(`bench: --pg-jobs wants a positive integer, got ${String(flag("--pg-jobs"))}\n`);
  process.exit(2);
}
const pgRounds = flag("--pg-rounds") === undefined ? undefined : Number(flag("--pg-rounds"));
if (pgRounds !== undefined && !(Number.isInteger(pgRounds) && pgRounds > 0)) {
  process.stderr.write(`bench: --pg-rounds wants a positive integer, got ${String(flag("--pg-rounds"))}\n`);
  process.exit(2);
}
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kanban-bench-"));
const results: Record<string, unknown> = {
  when: new Date().toISOString(),
  quick,
  machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? "?", node: process.version },
};
const SEEDED_PROFILES = Object.fromEntries(["p0", "p1", "p2", "p3", "p4"].map((p) => [p, { command: ["true"] }]));
const log = (name: string) => process.stderr.write(`bench: ${name}…\n`);

try {
  log("claim+complete cycles vs raw SQLite");
  results.claim_cycle = await benchClaimCycle(dir, quick);
  log("write transactions per claim with its workspace");
  results.claim_transactions = await benchClaimTransactions(dir);
  log("create tasks vs raw inserts");
  results.create = await benchCreate(dir, quick);
  const sizes = quick ? [2_000] : [10_000, 100_000];
  const boards: Record<string, unknown> = {};
  // The viewers' board is the first seeded board as seeded (a copy made before anything else uses
  // it): the HTTP benchmark adds thousands of cards assigned to a profile the host does not have,
  // which the board's rules then all flag, and the row would no longer measure the board it names.
  const viewersHome = path.join(dir, "home-viewers");
  for (const n of sizes) {
    log(`seed ${n} tasks`);
    const home = path.join(dir, `home-${n}`);
    fs.mkdirSync(home);
    await seedBoard(path.join(home, "kanban.db"), n);
    // The seeded assignees (p0…p4) are profiles of this host, as on a board a team runs: without
    // them every ready card would be flagged "assigned to a profile that does not exist here".
    fs.writeFileSync(path.join(home, "config.json"), JSON.stringify({ profiles: SEEDED_PROFILES }));
    if (n === sizes[0]) copyHome(home, viewersHome);
    log(`board.get, dispatcher tick and stats.flow at ${n} tasks`);
    boards[n] = {
      board_get: await benchBoardGet(home, quick),
      tick: await benchTick(path.join(home, "kanban.db"), quick),
      flow: await benchFlow(home, quick),
    };
  }
  results.boards = boards;
  const httpHome = path.join(dir, `home-${sizes[0]}`);
  log("API over HTTP (autocannon)");
  results.http = await benchHttp(httpHome, quick);
  log("live events");
  results.live = await benchLive(httpHome, quick);
  log("open boards while a fleet works: deltas vs the refetch protocol");
  results.viewers = await benchViewers(viewersHome, sizes[0] as number, quick);
  log("8-process claim contention");
  results.contention = await benchContention(dir, quick);
  log("CLI cold start and MCP start vs node -e 1");
  results.cli_start = await benchCliStart(dir, quick);
  log("PostgreSQL job queues: fetch+complete at 1 and 8 workers");
  results.pg_queues = await benchPgQueuesOnServer({
    quick,
    pgUrl,
    jobs: pgJobs,
    rounds: pgRounds,
    log: (l) => log(`  ${l}`),
  });
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}

fs.mkdirSync(resultsDir, { recursive: true });
const name = quick ? "quick" : "latest";
fs.writeFileSync(path.join(resultsDir, `${name}.json`), `${JSON.stringify(results, null, 2)}\n`);
const md = renderMarkdown(results);
fs.writeFileSync(path.join(resultsDir, `${name}.md`), md);
process.stdout.write(md);

function renderMarkdown(r: Record<string, unknown>): string {
  const m = r.machine as { cpus: number; model: string; node: string };
  const lines = [
    `Measured ${String(r.when).slice(0, 16).replace("T", " ")} UTC on ${m.cpus} × ${m.model}, Node ${m.node}${quick ? " — quick mode (small sizes, short runs)" : ""}.`,
    "",
    "| benchmark | measured | reference (same run) | ratio |",
    "| --- | --- | --- | --- |",
  ];
  type CycleRow = {
    synchronous: string;
    raw_cycles_per_s: number;
    schema_cycles_per_s: number;
    kernel_cycles_per_s: number;
    ratio: number;
    kernel_to_schema: number;
  };
  for (const row of r.claim_cycle as CycleRow[]) {
    lines.push(
      `| claim+complete cycles/s, synchronous=${row.synchronous} | ${row.kernel_cycles_per_s} | ${row.raw_cycles_per_s} raw better-sqlite3 CAS | ${row.ratio} |`,
    );
    lines.push(
      `| ↳ the same, against the kernel's own writes as bare statements, synchronous=${row.synchronous} | ${row.kernel_cycles_per_s} | ${row.schema_cycles_per_s} bare writes on Hermes' schema | ${row.kernel_to_schema} |`,
    );
  }
  const ct = r.claim_transactions as { dispatcher_path: number; api_path: number; claims: number };
  lines.push(
    `| write transactions per claim + workspace, dispatcher (claimNext, setWorkspace, recordSpawn) | ${ct.dispatcher_path} | ${ct.api_path} through tasks.claim (claimTask, setWorkspace) | — |`,
  );
  const c = r.create as { tasks: number; tasks_per_s: number; raw_inserts_per_s: number; ratio: number };
  lines.push(
    `| create ${c.tasks} tasks, one transaction each | ${c.tasks_per_s} tasks/s | ${c.raw_inserts_per_s} raw inserts/s | ${c.ratio} |`,
  );
  for (const [n, v] of Object.entries(
    r.boards as Record<
      string,
      { board_get: Record<string, number>; tick: Record<string, number>; flow: Record<string, number> }
    >,
  )) {
    lines.push(
      `| board.get at ${n} tasks (p50 / p95) | ${v.board_get.p50_ms} / ${v.board_get.p95_ms} ms | ${v.board_get.raw_p50_ms} ms raw SELECT of the rows | ${v.board_get.ratio} |`,
    );
    lines.push(
      `| dispatcher tick, nothing to spawn, ${n} tasks (p50) | ${v.tick.p50_ms} ms | ${v.tick.raw_ready_lane_p50_ms} ms raw ready-lane query | ${v.tick.ratio} |`,
    );
    lines.push(
      `| stats.flow, last 30 days at ${n} tasks (${v.flow.done} done; p50 / p95) | ${v.flow.p50_ms} / ${v.flow.p95_ms} ms | ${v.flow.raw_p50_ms} ms raw SELECT of the done rows; target < 100 ms at 100,000 tasks | ${v.flow.ratio} |`,
      `| ↳ its first read, which builds the board's flow ledger from every task | ${v.flow.first_read_ms} ms | — | — |`,
    );
  }
  const h = r.http as Record<string, Record<string, number>>;
  lines.push(
    `| HTTP board read (10 connections) | ${h.board_read?.rps} req/s, p50 ${h.board_read?.p50_ms} ms, p99 ${h.board_read?.p99_ms} ms | ${h.bare_node_http?.rps} req/s bare Node HTTP, same body | ${h.board_read?.ratio} |`,
  );
  lines.push(
    `| HTTP create (10 connections) | ${h.create_write?.rps} req/s, p50 ${h.create_write?.p50_ms} ms, p99 ${h.create_write?.p99_ms} ms | — | — |`,
  );
  const l = r.live as Record<string, number>;
  lines.push(
    `| live events: write in another process → last of ${l.subscribers} subscribers (p50 / p99) | ${l.p50_ms} / ${l.p99_ms} ms (${l.fully_delivered}/${l.writes} delivered to all) | 1000 ms promise | ${l.ratio_to_1s} |`,
  );
  lines.push(...viewersMarkdownRows(r.viewers as ViewersResult));
  const k = r.contention as {
    processes: number;
    claims_per_s: number;
    slowest_share: number;
    duplicates: number;
    claimed: number;
  };
  lines.push(
    `| ${k.processes} processes claiming one file | ${k.claims_per_s} claims/s, ${k.duplicates} duplicates of ${k.claimed} | fair share 1.0 | slowest ${k.slowest_share} |`,
  );
  lines.push(...cliStartMarkdownRows(r.cli_start as CliStart));
  lines.push(...pgQueueMarkdownRows(r.pg_queues as PgQueuesOnServer));
  return `${lines.join("\n")}\n`;
}
