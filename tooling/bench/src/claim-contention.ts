import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { openBoard } from "@kanban/kernel";
import { round } from "./stats.ts";

const worker = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "packages", "kernel", "test", "claim-worker.ts");

/** 8 processes claiming from one file: total claims/s and the slowest process's share of a fair split. */
export async function benchContention(dir: string, quick: boolean) {
  const total = quick ? 2_000 : 20_000;
  const procs = 8;
  const file = path.join(dir, "contention.db");
  const board = openBoard({ path: file, warn: () => {} });
  board.ctx.tx(() => {
    for (let i = 0; i < total; i++) board.createTask({ title: `job ${i}`, assignee: "bench" });
  });
  board.close();
  // Everyone starts claiming at the same instant (process start-up is not part of the measure).
  const startAt = Date.now() + 4000;
  const results = await Promise.all(
    Array.from(
      { length: procs },
      (_, i) =>
        new Promise<{ won: string[] }>((resolve, reject) => {
          const child = spawn(process.execPath, ["--import", "tsx", worker, file, `p${i}`, String(startAt)], { stdio: ["ignore", "pipe", "inherit"] });
          let out = "";
          child.stdout.on("data", (d) => {
            out += d;
          });
          child.on("exit", (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`claimer exited ${code}`))));
        }),
    ),
  );
  const seconds = (Date.now() - startAt) / 1000;
  const counts = results.map((r) => r.won.length);
  const claimed = counts.reduce((a, b) => a + b, 0);
  const distinct = new Set(results.flatMap((r) => r.won)).size;
  return {
    processes: procs,
    tasks: total,
    claimed,
    duplicates: claimed - distinct,
    claims_per_s: round(claimed / seconds),
    slowest_share: round(Math.min(...counts) / (claimed / procs), 2),
  };
}
