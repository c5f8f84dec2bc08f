import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { testPostgresAdminUrl } from "@kanban/db/testing-pg";
import { afterAll, describe, expect, it } from "vitest";

// The benchmark's smoke mode, end to end: every figure is produced, has its reference, and the
// correctness side of each (no duplicate claims, every live event delivered, no HTTP errors) holds.
// Speed is not asserted here: that is what the numbers in the README are for.

const here = path.dirname(fileURLToPath(import.meta.url));
const out = fs.mkdtempSync(path.join(os.tmpdir(), "kanban-bench-smoke-"));
afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

const positive = expect.any(Number);

describe("npm run bench -- --quick", () => {
  // The CLI start-up rows spawn ~30 short processes on top: a longer budget than the config's.
  it("measures every figure beside its reference and writes the JSON and the Markdown table", {
    timeout: 300_000,
  }, () => {
    // The PostgreSQL rows measure on the run's test server (else main.ts would start its own).
    const args = ["--quick", "--out", out, "--pg-url", testPostgresAdminUrl(), "--pg-jobs", "100"];
    const run = spawnSync(process.execPath, ["--import", "tsx", path.join(here, "main.ts"), ...args], {
      cwd: path.join(here, ".."),
      encoding: "utf8",
      timeout: 290_000,
    });
    expect(run.status, run.stderr).toBe(0);
    const r = JSON.parse(fs.readFileSync(path.join(out, "quick.json"), "utf8"));
    expect(r.quick).toBe(true);
    expect(r.claim_cycle.map((row: { synchronous: string }) => row.synchronous)).toEqual(["FULL", "NORMAL"]);
    for (const row of r.claim_cycle) {
      for (const k of ["raw_cycles_per_s", "schema_cycles_per_s", "kernel_cycles_per_s"])
        expect(row[k]).toBeGreaterThan(0);
      expect(row.ratio).toBeCloseTo(row.kernel_cycles_per_s / row.raw_cycles_per_s, 1);
      expect(row.kernel_to_schema).toBeCloseTo(row.kernel_cycles_per_s / row.schema_cycles_per_s, 1);
    }
    // The claim path's cost in write transactions is a design fact, not a speed: pin it exactly.
    expect(r.claim_transactions).toEqual({ dispatcher_path: 3, api_path: 2, claims: 50 });
    expect(r.create).toMatchObject({ tasks: 1000, tasks_per_s: positive, raw_inserts_per_s: positive });
    expect(r.boards["2000"].board_get).toMatchObject({ p50_ms: positive, p95_ms: positive, raw_p50_ms: positive });
    expect(r.boards["2000"].tick).toMatchObject({ p50_ms: positive, raw_ready_lane_p50_ms: positive });
    // 70 % of the seeded board is done (create-list.ts): the flow read measures all of it.
    expect(r.boards["2000"].flow).toMatchObject({ done: 1400, p50_ms: positive, raw_p50_ms: positive });
    for (const k of ["board_read", "create_write", "bare_node_http"]) {
      expect(r.http[k].rps).toBeGreaterThan(0);
      expect(r.http[k]).toMatchObject({ non2xx: 0, errors: 0 });
    }
    expect(r.live.fully_delivered).toBe(r.live.writes);
    // Both protocols for open boards ran on the same board; every write reached every viewer's state,
    // and the viewers on deltas never read the whole board.
    expect(r.viewers.rows.map((row: { protocol: string }) => row.protocol)).toEqual(["refetch", "deltas"]);
    for (const row of r.viewers.rows) {
      expect(row).toMatchObject({ viewers: 10, api_cpu_share: positive, bytes_per_viewer_per_min: positive });
      expect(row.covered).toBe(row.transitions);
    }
    expect(r.viewers.rows[0].board_reads).toBeGreaterThan(0);
    expect(r.viewers.rows[1].board_reads).toBe(0);
    expect(r.contention.duplicates).toBe(0);
    expect(r.contention.claimed).toBe(r.contention.tasks);
    expect(r.pg_queues.rows.map((row: { workers: number }) => row.workers)).toEqual([1, 1, 1, 1, 8, 8, 8, 8]);
    for (const row of r.pg_queues.rows) {
      expect(row).toMatchObject({ jobs: 100, completed: 100, duplicates: 0, jobs_per_s: positive });
    }
    // CLI start-up: each command beside `node -e 1` of the same rounds, the ratio of the two medians.
    expect(r.cli_start.rows.map((row: { name: string }) => row.name)).toEqual([
      "kanban show <id>, local SQLite board",
      "kanban show <id>, remote (KANBAN_URL)",
      "kanban --help",
      "kanban show <id>, local, without the compile cache",
    ]);
    for (const row of r.cli_start.rows) {
      expect(row).toMatchObject({ wall_ms: positive, ref_wall_ms: positive, rss_mb: positive, ref_rss_mb: positive });
      expect(row.ratio).toBeCloseTo(row.wall_ms / row.ref_wall_ms, 1);
    }
    expect(r.cli_start.mcp_start.p50_ms).toBeGreaterThan(0);
    const md = fs.readFileSync(path.join(out, "quick.md"), "utf8");
    expect(md).toContain("| benchmark | measured | reference (same run) | ratio |");
    // Header, 4 claim rows, transactions per claim, create, board.get, tick, flow and flow's first read (the ledger's
    // build) at one size, 2 HTTP rows, live,
    // open boards (deltas beside refetching), contention, 4 CLI cold starts, 4 memory per CLI call, MCP start,
    // and pg-boss on our pool size, graphile-worker and our kernel beside pg-boss at 1 and 8 workers.
    expect(md.split("\n").filter((l) => l.startsWith("| ") && !l.startsWith("| ---")).length).toBe(31);
    expect(md).toMatch(/\| 10 viewers on a 2000-task board, fleet at 20 transitions\/s: board by deltas \| API CPU /);
    expect(md).toMatch(
      /\| PostgreSQL [^|]+: graphile-worker [\d.]+ fetch\+complete of 100 jobs, 8 workers \| [\d.]+ jobs\/s \| [\d.]+ jobs\/s pg-boss /,
    );
    expect(md).toMatch(
      /\| PostgreSQL [^|]+: kanban \(PostgreSQL store\) fetch\+complete of 100 jobs, 8 workers \| [\d.]+ jobs\/s \| [\d.]+ jobs\/s pg-boss [\d.]+ \| [\d.]+; [\d.]+ against pg-boss [\d.]+, pool of 4 \|/,
    );
    expect(run.stdout).toBe(md);
  });
});
