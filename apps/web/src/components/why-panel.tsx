"use client";

import { useQuery } from "@tanstack/react-query";
import { useNow } from "../hooks/use-now.ts";
import { useRefetchOnChange } from "../hooks/use-refetch-on-change.ts";
import { useUrlState } from "../hooks/use-url-state.ts";
import { ago, countdown, liveness, stamp } from "../lib/format.ts";
import { footprintFor, formatBytes, formatCpu, lastLogLine, motionFamily, workerHost } from "../lib/motion.ts";
import type { DispatcherState, HostRow } from "../lib/types.ts";
import { errorMessage, useTRPC } from "../trpc/react.tsx";
import type { DrawerContext } from "./drawer-sections.tsx";
import { useHosts } from "./hosts-view.tsx";
import { MOTION_LOOK, MotionIcon } from "./motion-line.tsx";
import { Button, cx, SectionTitle } from "./ui.tsx";
import { BudgetAllowPanel } from "./budget-allow.tsx";

/** How often the panel asks again while open: the dispatcher samples footprints once a tick. */
const POLL_MS = 5000;

const HEARTBEAT_CLASS = { alive: "text-ok", quiet: "text-warn", stale: "text-danger" } as const;

/** The footprints the dispatcher's status lists (absent from a dispatcher older than issue 16). */
function dispatcherFootprints(state: DispatcherState | undefined): unknown {
  return state?.status?.footprints;
}

function Row({ label, children, title }: { label: string; children: React.ReactNode; title?: string }) {
  return (
    <>
      <dt className="text-muted" title={title}>
        {label}
      </dt>
      <dd className="min-w-0 tabular-nums">{children}</dd>
    </>
  );
}

/**
 * Liveness of a running task's worker: lease countdown and heartbeat age (the task's own times from
 * the server, ticking on the shared server clock), pid and host, the footprint the dispatcher
 * sampled at its last tick (processes, RSS, CPU), and the last line the worker logged.
 */
function LivenessPanel({ ctx, detail }: { ctx: DrawerContext; detail: Record<string, unknown> | null }) {
  const trpc = useTRPC();
  const now = useNow();
  const task = ctx.detail.task;
  const dispatcher = useQuery({ ...trpc.dispatcher.status.queryOptions(), refetchInterval: POLL_MS, retry: false });
  const log = useQuery({
    ...trpc.tasks.log.queryOptions({ board: ctx.board, id: ctx.id, tail: 4096 }),
    refetchInterval: POLL_MS,
  });
  const footprint = footprintFor({
    whyDetail: detail,
    dispatcherFootprints: dispatcherFootprints(dispatcher.data),
    taskId: task.id,
    runId: task.current_run_id,
    board: ctx.board,
  });
  const heartbeat = liveness({
    now,
    lastHeartbeat: task.last_heartbeat_at,
    startedAt: task.run_started_at ?? task.started_at,
    claimExpires: task.claim_expires,
  });
  const host = workerHost(detail, task.claim_lock);
  // A remote run's claim lock names its host by id (`kh-…:pid`): say which machine that is.
  const hosts = useHosts(ctx.board);
  const remote = host === null ? undefined : hosts.data?.hosts.find((h: HostRow) => h.id === host);
  const line = lastLogLine(log.data?.content);

  return (
    <dl
      data-testid="liveness-panel"
      data-heartbeat={heartbeat}
      className="mt-2 grid grid-cols-[110px_1fr] gap-x-3 gap-y-1 text-[12px]"
    >
      <Row label="Lease" title="The claim's lease: the dispatcher reclaims the task when it runs out">
        <span
          data-testid="live-lease"
          className={cx(task.claim_expires !== null && task.claim_expires <= now && "text-danger")}
        >
          {task.claim_expires === null ? "—" : countdown(task.claim_expires - now)}
        </span>
        {task.claim_expires !== null && <span className="text-faint"> · until {stamp(task.claim_expires)}</span>}
      </Row>
      <Row label="Heartbeat" title="When the worker last said it was alive">
        <span data-testid="live-heartbeat" className={HEARTBEAT_CLASS[heartbeat]}>
          {task.last_heartbeat_at === null ? "no heartbeat yet" : ago(task.last_heartbeat_at, now)}
        </span>
      </Row>
      <Row label="Worker">
        pid <span data-testid="live-pid">{task.worker_pid ?? "—"}</span>
        {" on "}
        {remote?.name ? (
          <>
            <span data-testid="live-host-name" className="font-medium">
              {remote.name}
            </span>{" "}
            <span data-testid="live-host" className="font-mono text-[11px] text-muted">
              ({host})
            </span>
          </>
        ) : (
          <span data-testid="live-host" className="font-mono text-[11px]">
            {host ?? "unknown host"}
          </span>
        )}
        <span className="text-muted">
          {" "}
          · run #{task.current_run_id} · started {ago(task.run_started_at ?? task.started_at, now)}
        </span>
      </Row>
      <Row label="Processes" title="Processes in the worker's tree, sampled by the dispatcher each tick">
        {footprint ? (
          <span data-testid="live-procs">
            {footprint.processes}
            {footprint.pids.length > 0 && (
              <span className="font-mono text-[11px] text-faint" title="pids in the tree">
                {" "}
                ({footprint.pids.slice(0, 8).join(", ")}
                {footprint.pids.length > 8 ? ", …" : ""})
              </span>
            )}
          </span>
        ) : (
          <span data-testid="live-procs-missing" className="text-faint">
            {dispatcher.data?.alive ? "not sampled yet" : "no dispatcher sample (no dispatcher running)"}
          </span>
        )}
      </Row>
      {footprint && (
        <>
          <Row label="Memory (RSS)">
            <span data-testid="live-rss">{footprint.rss_bytes === null ? "—" : formatBytes(footprint.rss_bytes)}</span>
          </Row>
          <Row label="CPU">
            <span data-testid="live-cpu">
              {footprint.cpu_percent === null ? "—" : formatCpu(footprint.cpu_percent)}
            </span>
            {footprint.sampled_at !== null && (
              <span className="text-faint"> · sampled {ago(footprint.sampled_at, now)}</span>
            )}
          </Row>
        </>
      )}
      <Row label="Last log line">
        {line ? (
          <span data-testid="live-log-line" className="block truncate font-mono text-[11px]" title={line}>
            {line}
          </span>
        ) : (
          <span className="text-faint">
            {log.error ? errorMessage(log.error) : log.data ? "nothing logged yet" : "…"}
          </span>
        )}
      </Row>
    </dl>
  );
}

/**
 * "Why / Liveness": the task's motion from `tasks.why` (the kernel's one sentence and the next
 * action: the same words as the card, `kanban why` and the MCP tool), and for a running task the
 * liveness panel. Asked again whenever the task changes and every few seconds while open.
 */
export function WhyPanel({ ctx }: { ctx: DrawerContext }) {
  const trpc = useTRPC();
  const why = useQuery({
    ...trpc.tasks.why.queryOptions({ board: ctx.board, id: ctx.id }),
    refetchInterval: POLL_MS,
  });
  // A new version of the task (a live event reloaded it) can change its motion at once.
  useRefetchOnChange(ctx.detail, why);
  const m = why.data;
  const running = ctx.detail.task.status === "running";
  const url = useUrlState();
  const family = m ? motionFamily(m.code) : null;

  return (
    <section data-testid="why-panel" data-code={m?.code} data-moving={m ? String(m.moving) : undefined}>
      <SectionTitle>Why / Liveness</SectionTitle>
      <div className="rounded-lg border border-line bg-panel px-3 py-2">
        {m ? (
          <>
            <div className={cx("flex items-start gap-1.5 text-[13px]", family && MOTION_LOOK[family].cls)}>
              <span className="mt-0.5">
                <MotionIcon code={m.code} size={13} />
              </span>
              <span data-testid="why-line" className="font-medium text-fg">
                {m.line}
              </span>
            </div>
            {m.next && (
              <div className="mt-0.5 pl-5 text-muted text-xs">
                Next: <span data-testid="why-next">{m.next}</span>
              </div>
            )}
            {(m.code === "budget_held" || (m.code === "blocked" && m.detail.kind === "budget")) && (
              <BudgetAllowPanel ctx={ctx} />
            )}
            {family === "nohost" && (
              <div className="mt-1 pl-5">
                <Button size="sm" variant="subtle" data-testid="why-open-hosts" onClick={() => url.openView("hosts")}>
                  See the hosts and their labels
                </Button>
              </div>
            )}
          </>
        ) : why.error ? (
          <p className="text-danger text-xs">{errorMessage(why.error)}</p>
        ) : (
          <p className="text-faint text-xs">…</p>
        )}
        {running && <LivenessPanel ctx={ctx} detail={m?.detail ?? null} />}
      </div>
    </section>
  );
}
