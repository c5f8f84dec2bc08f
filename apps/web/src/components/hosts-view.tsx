"use client";

import { useQuery } from "@tanstack/react-query";
import { useNow } from "../hooks/use-now.ts";
import { ago, stamp } from "../lib/format.ts";
import { answerIsStale, hostConnected, hostsSummary, sortHosts, workersLabel } from "../lib/hosts.ts";
import type { HostRow } from "../lib/types.ts";
import { errorMessage, httpStatusOf, useTRPC } from "../trpc/react.tsx";
import { ServerIcon } from "./icons.tsx";
import { LabelChips } from "./labels-input.tsx";
import { Modal } from "./modal.tsx";
import { Button, Chip, cx } from "./ui.tsx";

/**
 * How often the board asks `hosts.list` again: a host's heartbeat writes no board event, so the
 * view polls (modestly; between answers, connected-or-not follows each host's lease on the clock).
 */
export const HOSTS_POLL_MS = 5000;

/** The board's remote hosts, polled; shared by the toolbar's button and the view (one query). */
export function useHosts(board: string | null | undefined) {
  const trpc = useTRPC();
  return useQuery({
    ...trpc.hosts.list.queryOptions({ board: board ?? undefined }),
    refetchInterval: HOSTS_POLL_MS,
    retry: false,
  });
}

/** Whether the hosts answer the page holds is too old to take as it is (see lib/hosts.ts). */
function useStale(answeredAtMs: number): boolean {
  useNow(); // re-judged every second
  return answerIsStale(answeredAtMs, Date.now(), HOSTS_POLL_MS);
}

/**
 * The table of hosts: name (and id, tenant), labels, version, last seen, running workers over
 * capacity, and connected or not. Pure: what it shows depends on its props only.
 */
export function HostsTable({
  hosts,
  now,
  stale = false,
}: {
  hosts: readonly HostRow[];
  now: number;
  /** The answer is older than the polls allow: a host past its lease is shown disconnected. */
  stale?: boolean;
}) {
  if (hosts.length === 0) {
    return (
      <div data-testid="hosts-empty" className="space-y-1.5 py-2 text-muted">
        <p>No remote host has connected to this board yet.</p>
        <p className="text-xs">
          On the other machine, with a token from this server's <code className="font-mono">config.json</code>{" "}
          <code className="font-mono">host_tokens</code>:
        </p>
        <pre className="overflow-x-auto rounded bg-panel-2 px-2 py-1.5 font-mono text-[11px] text-fg">
          kanban-dispatcher --server &lt;url&gt; --token &lt;host token&gt; --labels macos
        </pre>
      </div>
    );
  }
  return (
    <table data-testid="hosts-table" className="w-full border-collapse text-left text-[13px]">
      <thead>
        <tr className="border-line border-b text-muted text-xs">
          <th className="py-1.5 pr-3 font-medium">Host</th>
          <th className="py-1.5 pr-3 font-medium">Labels</th>
          <th className="py-1.5 pr-3 font-medium">Version</th>
          <th className="py-1.5 pr-3 font-medium">Last seen</th>
          <th className="py-1.5 pr-3 font-medium" title="Running workers / capacity">
            Workers
          </th>
          <th className="py-1.5 font-medium">Status</th>
        </tr>
      </thead>
      <tbody>
        {sortHosts(hosts, now, stale).map((h) => {
          const connected = hostConnected(h, now, stale);
          return (
            <tr
              key={h.id}
              data-testid="host-row"
              data-host-id={h.id}
              data-connected={String(connected)}
              className={cx("border-line border-b align-top last:border-b-0", !connected && "text-muted")}
            >
              <td className="py-2 pr-3">
                <div data-testid="host-name" className="font-medium">
                  {h.name ?? h.id}
                </div>
                <div className="flex flex-wrap items-center gap-1">
                  {h.name !== null && <span className="font-mono text-[11px] text-faint">{h.id}</span>}
                  {h.tenant && <Chip title="Claims only this tenant's tasks">{h.tenant}</Chip>}
                </div>
              </td>
              <td className="py-2 pr-3">
                <div data-testid="host-labels" className="flex flex-wrap gap-1">
                  {h.labels.length > 0 ? (
                    <LabelChips labels={h.labels} testId="host-label" title="Host label" />
                  ) : (
                    <span className="text-faint text-xs">none</span>
                  )}
                </div>
              </td>
              <td data-testid="host-version" className="py-2 pr-3 font-mono text-xs">
                {h.version ?? "—"}
              </td>
              <td data-testid="host-last-seen" className="py-2 pr-3 tabular-nums" title={stamp(h.last_seen_at)}>
                {ago(h.last_seen_at, now)}
              </td>
              <td data-testid="host-workers" className="py-2 pr-3 tabular-nums">
                {workersLabel(h)}
              </td>
              <td className="py-2">
                <span
                  data-testid="host-status"
                  className={cx("inline-flex items-center gap-1.5 text-xs", connected ? "text-ok" : "text-muted")}
                  title={
                    connected
                      ? "Heard from within its lease"
                      : "Silent past its lease: the server gives its claims back to the board"
                  }
                >
                  <span className={cx("size-2 rounded-full", connected ? "bg-ok" : "bg-faint")} />
                  {connected ? "Connected" : "Disconnected"}
                </span>
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/** The Hosts view (a dialog over the board, like its other panels), live while open. */
export function HostsView({ board, onClose }: { board: string | null; onClose: () => void }) {
  const now = useNow();
  const q = useHosts(board);
  const stale = useStale(q.dataUpdatedAt);
  const hosts = q.data?.hosts ?? [];
  const summary = hostsSummary(hosts, now, stale);
  return (
    <Modal
      wide
      title={
        <span className="inline-flex items-center gap-2">
          <ServerIcon /> Hosts
          {q.data && summary.total > 0 && (
            <span className="font-normal text-muted text-xs">
              {summary.connected} of {summary.total} connected
            </span>
          )}
        </span>
      }
      testId="hosts-view"
      onClose={onClose}
      footer={
        <>
          <span className="mr-auto text-faint text-xs">
            Remote dispatchers of this board · refreshed every {HOSTS_POLL_MS / 1000} s
          </span>
          <Button onClick={onClose}>Close</Button>
        </>
      }
    >
      {q.error ? (
        <p role="alert" className="text-danger">
          {httpStatusOf(q.error) === 404
            ? "This server does not know remote hosts (it is older than the board)."
            : errorMessage(q.error)}
        </p>
      ) : q.data ? (
        <HostsTable hosts={hosts} now={now} stale={stale} />
      ) : (
        <p className="text-muted">Loading…</p>
      )}
    </Modal>
  );
}

const BUTTON_DOT = { ok: "bg-ok", partial: "bg-warn", none: "bg-danger", empty: "bg-faint" } as const;

/** The toolbar's way into the Hosts view: how many hosts are connected, at a glance. */
export function HostsButton({ board, onOpen }: { board: string | null; onOpen: () => void }) {
  const now = useNow();
  const q = useHosts(board);
  const stale = useStale(q.dataUpdatedAt);
  // A server without remote hosts (404) or a caller refused them: no button to a view that cannot load.
  if (q.error && [403, 404].includes(httpStatusOf(q.error) ?? 0)) return null;
  const summary = q.data ? hostsSummary(q.data.hosts, now, stale) : null;
  return (
    <Button
      variant="ghost"
      data-testid="hosts-button"
      data-state={summary?.state ?? "unknown"}
      title={
        summary === null
          ? "Remote hosts"
          : summary.total === 0
            ? "No remote host has connected to this board"
            : `${summary.connected} of ${summary.total} remote hosts connected`
      }
      onClick={onOpen}
    >
      <ServerIcon />
      Hosts
      {summary && (
        <span className="inline-flex items-center gap-1 text-xs tabular-nums">
          <span className={cx("size-1.5 rounded-full", BUTTON_DOT[summary.state])} />
          {summary.label}
        </span>
      )}
    </Button>
  );
}
