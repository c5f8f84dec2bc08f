// `npm run bench:cli [-- --quick]`: only the CLI start-up rows of the bench (see cli-start.ts), printed
// as the bench table's rows and written to results/cli-<latest|quick>.json.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { benchCliStart, cliStartMarkdownRows, tmpBenchDir } from "./cli-start.ts";

const quick = process.argv.includes("--quick");
const dir = tmpBenchDir();
try {
  const r = await benchCliStart(dir, quick);
  const out = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "results");
  const when = new Date().toISOString();
  const machine = { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? "?", node: process.version };
  fs.writeFileSync(
    path.join(out, `cli-${quick ? "quick" : "latest"}.json`),
    `${JSON.stringify({ when, machine, ...r }, null, 2)}\n`,
  );
  process.stdout.write(
    [
      `Measured ${when.slice(0, 16).replace("T", " ")} UTC on ${machine.cpus} × ${machine.model}, Node ${machine.node}.`,
      "",
      "| benchmark | measured | reference (same run) | ratio |",
      "| --- | --- | --- | --- |",
      ...cliStartMarkdownRows(r),
      "",
    ].join("\n"),
  );
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
