// `npm run bench [-- --quick]`: every figure measured side by side with its reference in one run.
// Writes results/latest.json and results/latest.md (the table the README shows).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { benchClaimCycle } from "./claim-cycle.ts";
import { benchContention } from "./claim-contention.ts";
import { benchCreate, benchKernelList, seedBoard } from "./create-list.ts";

const quick = process.argv.includes("--quick");
const here = path.dirname(fileURLToPath(import.meta.url));
const resultsDir = path.join(here, "..", "results");
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kanban-bench-"));
const results: Record<string, unknown> = {
  when: new Date().toISOString(),
  quick,
  machine: { cpus: os.cpus().length, node: process.version, platform: `${os.platform()} ${os.release()}` },
};

function section(name: string) {
  process.stderr.write(`bench: ${name}…\n`);
}

try {
  section("claim+complete cycles vs raw SQLite");
  results.claim_cycle = benchClaimCycle(dir, quick);
  section("create tasks");
  results.create = benchCreate(dir, quick);
  const sizes = quick ? [2_000] : [10_000, 100_000];
  const lists: Record<string, unknown> = {};
  for (const n of sizes) {
    section(`seed and list ${n} tasks`);
    const file = path.join(dir, `board-${n}.db`);
    seedBoard(file, n);
    lists[n] = { kernel_list: benchKernelList(file, quick) };
  }
  results.board_list = lists;
  section("8-process claim contention");
  results.contention = await benchContention(dir, quick);
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
  const lines = [`Measured ${r.when} on ${JSON.stringify(r.machine)}${quick ? " (quick mode: small sizes, short runs)" : ""}.`, ""];
  lines.push("| benchmark | measured | reference | ratio |", "| --- | --- | --- | --- |");
  for (const row of r.claim_cycle as { synchronous: string; raw_cycles_per_s: number; kernel_cycles_per_s: number; ratio: number }[]) {
    lines.push(`| claim+complete cycles/s, synchronous=${row.synchronous} | ${row.kernel_cycles_per_s} (kernel) | ${row.raw_cycles_per_s} (raw better-sqlite3 CAS) | ${row.ratio} |`);
  }
  const c = r.create as { tasks: number; tasks_per_s: number };
  lines.push(`| create ${c.tasks} tasks (one transaction each, FULL) | ${c.tasks_per_s} tasks/s | — | — |`);
  for (const [n, v] of Object.entries(r.board_list as Record<string, { kernel_list: { p50_ms: number; p95_ms: number } }>)) {
    lines.push(`| kernel list of ${n} tasks with warnings + summaries | p50 ${v.kernel_list.p50_ms} ms, p95 ${v.kernel_list.p95_ms} ms | — | — |`);
  }
  const k = r.contention as { processes: number; claims_per_s: number; slowest_share: number; duplicates: number; claimed: number };
  lines.push(`| ${k.processes} processes claiming one file | ${k.claims_per_s} claims/s, ${k.claimed} claimed, ${k.duplicates} duplicates | fair share = 1.0 | slowest ${k.slowest_share} |`);
  return `${lines.join("\n")}\n`;
}
