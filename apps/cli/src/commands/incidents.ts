import type { Command } from "commander";
import { boardArg, currentAuthor, type Deps } from "../deps.ts";
import { formatTime, table, toJson } from "../output.ts";
import { UsageError } from "../errors.ts";
import type { Register } from "./register.ts";

export interface IncidentsOptions {
  all?: boolean;
  json?: boolean;
}

/** How an incident's probe stands: running, due, or when. */
function probeText(i: { open: boolean; probe_run_id: number | null; next_probe_at: number | null }): string {
  if (!i.open) return "-";
  if (i.probe_run_id !== null) return `running (run ${i.probe_run_id})`;
  return i.next_probe_at === null ? "-" : formatTime(i.next_probe_at);
}

/**
 * `kanban incidents`: the outages the board folded (several runs of one profile or remote host
 * failing the same way), open ones by default; each pauses its profile or host until a probe run
 * succeeds or someone resumes it.
 */
export async function runIncidents(deps: Deps, opts: IncidentsOptions): Promise<number> {
  const client = await deps.client();
  const { incidents } = await client.incidents.list.query({ ...boardArg(deps), all: opts.all === true });
  if (opts.json) {
    deps.io.out(toJson({ incidents }));
    return 0;
  }
  if (incidents.length === 0) {
    deps.io.out(opts.all ? "(no incidents)" : "(no open incidents: nothing is paused)");
    return 0;
  }
  const rows = [["ID", "STATE", "SCOPE", "CLASS", "FAILURES", "CARDS", "SINCE", "NEXT PROBE", "LAST ERROR"]];
  for (const i of incidents) {
    rows.push([
      `#${i.id}`,
      i.open ? "paused" : `closed (${i.closed_by ?? "-"})`,
      `${i.scope} ${i.scope_key}`,
      i.failure_class,
      String(i.failures),
      String(i.task_ids.length),
      formatTime(i.opened_at),
      probeText(i),
      (i.last_error ?? "-").split("\n")[0]?.slice(0, 60) ?? "-",
    ]);
  }
  for (const line of table(rows)) deps.io.out(line);
  if (incidents.some((i) => i.open)) deps.io.out("Resume one now: kanban incidents resume <id>");
  return 0;
}

/** `kanban incidents resume <id>`: a person lifts the pause at once (closed_by `person:<you>`). */
export async function runResumeIncident(deps: Deps, id: number, opts: { json?: boolean }): Promise<number> {
  const client = await deps.client();
  const { incident } = await client.incidents.resume.mutate({
    ...boardArg(deps),
    incident_id: id,
    by: currentAuthor(deps),
  });
  if (opts.json) deps.io.out(toJson({ incident }));
  else deps.io.out(`Resumed incident #${incident.id}: ${incident.scope} ${incident.scope_key} runs again.`);
  return 0;
}

export const registerIncidents: Register = (program: Command, act) => {
  // One verb with an optional action rather than subcommands, so that a bare `kanban incidents` lists.
  program
    .command("incidents")
    .summary("list outages that paused a profile or host; `incidents resume <id>` ends one")
    .description(
      "List the board's incidents: several runs of one profile (or remote host) that failed the same way within a short window, folded into one. While one is open its profile or host is paused (one probe run at a time) and the folded runs count no failure; a probe that completes, or `kanban incidents resume <id>`, ends it.",
    )
    .argument("[action]", "resume: end the incident <id> now and resume its profile or host")
    .argument("[id]", "the incident's id (with resume)")
    .option("--all", "also list closed incidents")
    .option("--json", "print the incidents (or the resumed incident) as JSON")
    .action(
      act(async (deps, action: string | undefined, id: string | undefined, opts: IncidentsOptions) => {
        if (action === undefined) return await runIncidents(deps, opts);
        if (action !== "resume") throw new UsageError(`unknown action '${action}': the only one is resume <id>`);
        if (id === undefined || !/^\d+$/.test(id) || Number(id) < 1)
          throw new UsageError("incidents resume needs the incident's id, a whole number (see kanban incidents)");
        return await runResumeIncident(deps, Number(id), opts);
      }),
    );
};
