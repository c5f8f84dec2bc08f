import type { Command } from "commander";
import { boardArg, type Deps } from "../deps.ts";
import { formatTime, table, toJson } from "../output.ts";
import type { Register } from "./register.ts";

export interface HostsOptions {
  json?: boolean;
}

/**
 * `kanban hosts`: the remote machines that claim this board's tasks (`kanban-dispatcher --server`),
 * one row each: connected or not, labels, running workers of its capacity, version, last seen.
 */
export async function runHosts(deps: Deps, opts: HostsOptions): Promise<number> {
  const client = await deps.client();
  const { hosts } = await client.hosts.list.query({ ...boardArg(deps) });
  if (opts.json) {
    deps.io.out(toJson({ hosts }));
    return 0;
  }
  if (hosts.length === 0) {
    deps.io.out("(no remote hosts: start one with kanban-dispatcher --server <url> --token <host token>)");
    return 0;
  }
  const rows = [["HOST", "NAME", "STATE", "LABELS", "RUNNING", "VERSION", "TENANT", "LAST SEEN"]];
  for (const h of hosts) {
    rows.push([
      h.id,
      h.name ?? "-",
      h.connected ? "connected" : "disconnected",
      h.labels.length > 0 ? h.labels.join(",") : "-",
      `${h.running}/${h.capacity ?? "?"}`,
      h.version ?? "-",
      h.tenant ?? "-",
      formatTime(h.last_seen_at),
    ]);
  }
  for (const line of table(rows)) deps.io.out(line);
  return 0;
}

export const registerHosts: Register = (program: Command, act) => {
  program
    .command("hosts")
    .summary("list the remote hosts that run this board's workers")
    .description(
      "List the remote hosts (kanban-dispatcher --server) of the board: connected or not, labels, running workers and capacity, version, tenant and when each was last heard from.",
    )
    .option("--json", "print the hosts as JSON")
    .action(act((deps, opts: HostsOptions) => runHosts(deps, opts)));
};
