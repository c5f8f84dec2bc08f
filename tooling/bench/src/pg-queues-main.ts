// `npm run bench:pg -w @kanban/bench [-- --pg-jobs <n>] [-- --pg-rounds <n>] [-- --pg-url <url>]`: the PostgreSQL rows of
// `npm run bench` alone (nothing else measured, no results file written), to try a contender at a
// small size without the whole run. Prints the JSON, then the table rows.
import { benchPgQueuesOnServer, pgQueueMarkdownRows } from "./pg-queues.ts";

const flag = (name: string) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : undefined;
};
const jobs = Number(flag("--pg-jobs") ?? 500);
if (!(Number.isInteger(jobs) && jobs > 0)) {
  process.stderr.write(`bench:pg: --pg-jobs wants a positive integer, got ${String(flag("--pg-jobs"))}\n`);
  process.exit(2);
}
const rounds = Number(flag("--pg-rounds") ?? 1);
if (!(Number.isInteger(rounds) && rounds > 0)) {
  process.stderr.write(`bench:pg: --pg-rounds wants a positive integer, got ${String(flag("--pg-rounds"))}\n`);
  process.exit(2);
}
const r = await benchPgQueuesOnServer({
  quick: true,
  pgUrl: flag("--pg-url"),
  jobs,
  rounds,
  log: (line) => process.stderr.write(`bench:pg: ${line}…\n`),
});
process.stdout.write(`${JSON.stringify(r, null, 2)}\n${pgQueueMarkdownRows(r).join("\n")}\n`);
