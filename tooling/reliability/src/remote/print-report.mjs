#!/usr/bin/env node
// Prints the remote-host reliability report (remote-report.json, written by the src/remote/*.test.ts
// scenarios) as the Markdown table of the README's "Remote hosts" section, then each scenario's
// faults and notes. `npm run remote-report` (in tooling/reliability), or `node print-report.mjs [file]`.
import fs from "node:fs";
import { fileURLToPath } from "node:url";

const file =
  process.argv.slice(2).find((a) => !a.startsWith("--")) ??
  fileURLToPath(new URL("../../remote-report.json", import.meta.url));
let report;
try {
  report = JSON.parse(fs.readFileSync(file, "utf8"));
} catch {
  console.error(`no report at ${file}: run the remote scenarios first (npx vitest run src/remote)`);
  process.exit(1);
}

const scenarios = Object.values(report.scenarios ?? {}).sort((a, b) => a.finished_at.localeCompare(b.finished_at));

function summary(ms) {
  if (ms.length === 0) return "–";
  const sorted = [...ms].sort((a, b) => a - b);
  const median = sorted[Math.floor((sorted.length - 1) / 2)];
  const s = (v) => `${(v / 1000).toFixed(1)} s`;
  return sorted.length === 1
    ? s(median)
    : `${s(median)} median, ${s(sorted[sorted.length - 1])} max (${sorted.length})`;
}

function faults(list) {
  if (list.length === 0) return "none";
  const counts = new Map();
  for (const f of list) {
    const key = f.kind === "cut" || f.kind === "stall" ? `${f.kind} ${Math.round(f.duration_s)} s` : f.kind;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([k, n]) => `${n} × ${k}`).join(", ");
}

const rows = [
  [
    "scenario",
    "tasks",
    "faults injected",
    "completions (accepted / late)",
    "completions lost",
    "double runs",
    "reconnect → consistent",
    "wall",
    "passed",
  ],
  ...scenarios.map((s) => [
    `${s.title}${s.seed === null ? "" : ` (seed ${s.seed})`}`,
    String(s.tasks),
    faults(s.faults),
    `${s.completions_made} (${s.completions_accepted} / ${s.late_reports})`,
    String(s.completions_lost),
    String(s.double_runs),
    summary(s.reconnect_to_consistent_ms),
    `${Math.round(s.wall_s)} s`,
    s.passed ? "yes" : "**no**",
  ]),
];
console.log(`| ${rows[0].join(" | ")} |`);
console.log(`| ${rows[0].map(() => "---").join(" | ")} |`);
for (const r of rows.slice(1)) console.log(`| ${r.map((c) => c.replaceAll("|", "\\|")).join(" | ")} |`);

if (process.argv.includes("--details")) {
  for (const s of scenarios) {
    console.log(`\n**${s.title}** (${s.finished_at})`);
    for (const f of s.faults) console.log(`- ${f.kind} ${f.target} at ${f.at_s} s for ${f.duration_s} s`);
    for (const n of s.notes) console.log(`- ${n}`);
  }
}
