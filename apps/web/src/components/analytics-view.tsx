"use client";

import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useSearchParams } from "next/navigation";
import { type ReactNode, useCallback, useMemo } from "react";
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import {
  boardIdsHref,
  type CostRow,
  costPerDoneByModel,
  costPerDoneByProfile,
  type Drill,
  drillParam,
  drillStatus,
  drillTitle,
  duration,
  matchesDrill,
  money,
  parseDrill,
  parseWindow,
  percent,
  WINDOWS,
  windowSince,
} from "../lib/analytics.ts";
import { errorMessage, useTRPC } from "../trpc/react.tsx";
import { cx, SectionTitle } from "./ui.tsx";

/** The board page's address, optionally with one card's drawer open. */
function boardHref(board: string | null, task?: string): string {
  const q = new URLSearchParams();
  if (board) q.set("board", board);
  if (task) q.set("task", task);
  const qs = q.toString();
  return `/${qs ? `?${qs}` : ""}`;
}

/** Same-page URL changes without a server round trip (as the board's own URL state does). */
function useQueryParams() {
  return useCallback((changes: Record<string, string | null>) => {
    const next = new URLSearchParams(window.location.search);
    for (const [k, v] of Object.entries(changes)) {
      if (v === null || v === "") next.delete(k);
      else next.set(k, v);
    }
    const qs = next.toString();
    window.history.pushState(null, "", `${window.location.pathname}${qs ? `?${qs}` : ""}`);
  }, []);
}

function Panel({
  title,
  right,
  children,
  testId,
}: {
  title: string;
  right?: ReactNode;
  children: ReactNode;
  testId?: string;
}) {
  return (
    <section data-testid={testId} className="rounded-lg border border-line bg-panel p-3 shadow-card">
      <SectionTitle right={right}>{title}</SectionTitle>
      {children}
    </section>
  );
}

function Empty({ children, testId }: { children: ReactNode; testId?: string }) {
  return (
    <p data-testid={testId} className="py-6 text-center text-muted">
      {children}
    </p>
  );
}

/** A headline figure; clickable when it stands for cards. */
function Tile({
  label,
  value,
  sub,
  testId,
  onClick,
}: {
  label: string;
  value: string;
  sub?: string;
  testId: string;
  onClick?: () => void;
}) {
  const body = (
    <>
      <div className="text-[11px] text-muted uppercase tracking-wide">{label}</div>
      <div data-testid={`${testId}-value`} className="mt-0.5 font-semibold text-xl tabular-nums">
        {value}
      </div>
      {sub && (
        <div data-testid={`${testId}-sub`} className="text-muted text-xs tabular-nums">
          {sub}
        </div>
      )}
    </>
  );
  const cls = "rounded-lg border border-line bg-panel p-3 text-left shadow-card";
  return onClick ? (
    <button type="button" data-testid={testId} className={cx(cls, "hover:border-accent")} onClick={onClick}>
      {body}
    </button>
  ) : (
    <div data-testid={testId} className={cls}>
      {body}
    </div>
  );
}

const CHART = { accent: "var(--color-accent)", muted: "var(--color-faint)", line: "var(--color-line)" };

interface BarShape {
  x?: number;
  y?: number;
  width?: number;
  height?: number;
  fill?: string;
  payload?: { day: string; done: number };
}

function ThroughputChart({
  rows,
  onPick,
  hrefOf,
}: {
  rows: { day: string; done: number }[];
  onPick: (day: string) => void;
  hrefOf: (day: string) => string;
}) {
  return (
    <div className="h-56" data-testid="throughput-chart">
      <ResponsiveContainer width="100%" height="100%">
        <BarChart data={rows} margin={{ top: 8, right: 8, bottom: 0, left: -16 }}>
          <CartesianGrid stroke={CHART.line} vertical={false} />
          <XAxis dataKey="day" tickFormatter={(d: string) => d.slice(5)} fontSize={11} minTickGap={12} />
          <YAxis allowDecimals={false} fontSize={11} />
          <Tooltip formatter={(v) => [`${v} card(s)`, "Done"]} labelFormatter={(d) => `${d} (UTC)`} />
          <Bar
            dataKey="done"
            name="Cards done"
            fill={CHART.accent}
            isAnimationActive={false}
            shape={(props: unknown) => {
              const p = props as BarShape;
              const day = p.payload?.day ?? "";
              return (
                // A bar is a link to its day's cards (keyboard and "open in a new tab" work too).
                <a
                  href={hrefOf(day)}
                  data-testid={`bar-${day}`}
                  data-done={p.payload?.done ?? 0}
                  aria-label={`${day}: ${p.payload?.done ?? 0} done`}
                  onClick={(e) => {
                    e.preventDefault();
                    onPick(day);
                  }}
                >
                  <rect
                    x={p.x}
                    y={p.y}
                    width={p.width}
                    height={p.height}
                    fill={p.fill}
                    rx={2}
                    className="cursor-pointer hover:opacity-80"
                  >
                    <title>{`${day}: ${p.payload?.done ?? 0} done, click for the cards`}</title>
                  </rect>
                </a>
              );
            }}
          />
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}

type TimeInStatus = Record<"running" | "blocked" | "waiting", { p50: number | null; p90: number | null; n: number }>;

function TimeInStatusChart({ tis }: { tis: TimeInStatus }) {
  const rows = (["running", "blocked", "waiting"] as const).map((s) => ({
    status: s,
    p50: tis[s].p50 ?? 0,
    p90: tis[s].p90 ?? 0,
  }));
  return (
    <>
      <div className="h-44">
        <ResponsiveContainer width="100%" height="100%">
          <BarChart data={rows} layout="vertical" margin={{ top: 4, right: 12, bottom: 0, left: 8 }}>
            <CartesianGrid stroke={CHART.line} horizontal={false} />
            <XAxis type="number" allowDecimals={false} tickFormatter={(s: number) => duration(s)} fontSize={11} />
            <YAxis type="category" dataKey="status" fontSize={11} width={60} />
            <Tooltip formatter={(v, name) => [duration(Number(v)), String(name)]} />
            <Legend iconSize={8} wrapperStyle={{ fontSize: 11 }} />
            <Bar dataKey="p50" name="p50" fill={CHART.accent} isAnimationActive={false} />
            <Bar dataKey="p90" name="p90" fill={CHART.muted} isAnimationActive={false} />
          </BarChart>
        </ResponsiveContainer>
      </div>
      <table className="mt-2 w-full text-[13px] tabular-nums">
        <tbody>
          {(["running", "blocked", "waiting"] as const).map((s) => (
            <tr key={s} data-testid={`tis-${s}`} className="border-line border-t">
              <td className="py-1 text-muted">{s}</td>
              <td className="py-1">p50 {duration(tis[s].p50)}</td>
              <td className="py-1">p90 {duration(tis[s].p90)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

function CostTable({ rows, divisor, testId }: { rows: CostRow[]; divisor: string; testId: string }) {
  if (rows.length === 0) return <Empty testId={`${testId}-empty`}>No usage reported in this window.</Empty>;
  return (
    <table data-testid={testId} className="w-full text-left text-[13px] tabular-nums">
      <thead>
        <tr className="text-muted text-xs">
          <th className="py-1 font-medium">Name</th>
          <th className="py-1 text-right font-medium">Cost</th>
          <th className="py-1 text-right font-medium" title={divisor}>
            Done cards
          </th>
          <th className="py-1 text-right font-medium">Per done card</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.key} data-testid={`${testId}-row`} data-key={r.key} className="border-line border-t">
            <td className="py-1">
              {r.key}
              {r.unpriced > 0 && <span className="ml-1 text-faint text-xs">({r.unpriced} unpriced)</span>}
            </td>
            <td className="py-1 text-right">{money(r.cost_micro_usd)}</td>
            <td className="py-1 text-right">{r.done}</td>
            <td data-testid={`${testId}-per-done`} className="py-1 text-right font-medium">
              {r.per_done_micro_usd === null ? "—" : money(r.per_done_micro_usd)}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The cards a clicked figure stands for, each a link to the board with its drawer open. */
function DrillPanel({
  board,
  drill,
  window: win,
  onClose,
}: {
  board: string | null;
  drill: Drill;
  window: { since: number; until: number };
  onClose: () => void;
}) {
  const trpc = useTRPC();
  const status = drillStatus(drill);
  const blocked = drill.kind === "blocked";
  const list = useQuery({
    ...trpc.tasks.list.queryOptions({
      board: board ?? undefined,
      status: status ?? undefined,
      assignee: drill.kind === "profile" && drill.profile !== "(none)" ? drill.profile : undefined,
      order_by: "updated",
      limit: 1000,
    }),
    enabled: !blocked,
  });
  // A blocked reason's cards come from the same episodes its count does (stats.flowBlocked).
  const blockedCards = useQuery({
    ...trpc.stats.flowBlocked.queryOptions({
      board: board ?? undefined,
      reason: drill.kind === "blocked" ? drill.reason : "-",
      since: win.since,
      until: win.until,
    }),
    enabled: blocked,
    // The window's end is the server's "now" of the figures' last answer, so every refetch of the
    // figures (window focus) asks again under a new key: the cards shown stay until the answer comes.
    // The panel is keyed on its board and drill, so another drill never shows this one's cards meanwhile.
    placeholderData: keepPreviousData,
  });
  const cards: { id: string; title: string; assignee: string | null }[] = blocked
    ? (blockedCards.data?.cards ?? [])
    : (list.data?.tasks ?? []).filter((t) => matchesDrill(t, drill));
  const loading = blocked ? blockedCards.isPending : list.isPending;
  const failed = blocked ? blockedCards.error : list.error;
  const onBoard = boardIdsHref(
    board,
    cards.map((t) => t.id),
  );
  return (
    <Panel
      testId="drill"
      title={drillTitle(drill)}
      right={
        <span className="flex items-center gap-3">
          {onBoard && (
            <a href={onBoard} data-testid="drill-on-board" className="text-accent text-xs hover:underline">
              Show {cards.length === 1 ? "it" : `these ${cards.length}`} on the board
            </a>
          )}
          <button
            type="button"
            data-testid="drill-close"
            className="text-muted text-xs hover:text-fg"
            onClick={onClose}
          >
            Close
          </button>
        </span>
      }
    >
      {loading && <p className="text-muted">Loading cards…</p>}
      {failed && <p className="text-danger">{errorMessage(failed)}</p>}
      {!loading && !failed && cards.length === 0 && <Empty testId="drill-empty">No card to show here now.</Empty>}
      <ul className="divide-y divide-line">
        {cards.map((t) => (
          <li key={t.id} data-testid="drill-card" data-id={t.id} className="flex items-center gap-2 py-1.5">
            <a href={boardHref(board, t.id)} className="min-w-0 flex-1 truncate hover:text-accent hover:underline">
              {t.title}
            </a>
            <span className="font-mono text-[11px] text-faint">{t.id}</span>
            {t.assignee && <span className="text-muted text-xs">{t.assignee}</span>}
          </li>
        ))}
      </ul>
    </Panel>
  );
}

/** The analytics page of one board (issue 21): `/analytics?board=<slug>&since=30d`. */
export function AnalyticsView() {
  const params = useSearchParams();
  const setParams = useQueryParams();
  const trpc = useTRPC();
  const board = params.get("board");
  const win = parseWindow(params.get("since"));
  const drill = parseDrill(params.get("cards"));
  // The start moves only when the window does (a re-render never asks for a new window).
  const since = useMemo(() => windowSince(Math.floor(Date.now() / 1000), win), [win]);
  const input = { board: board ?? undefined, since };
  const flowQ = useQuery(trpc.stats.flow.queryOptions(input));
  const profileQ = useQuery(trpc.usage.summary.queryOptions({ ...input, by: "profile" }));
  const modelQ = useQuery(trpc.usage.summary.queryOptions({ ...input, by: "model" }));
  const flow = flowQ.data;
  const pick = (d: Drill) => setParams({ cards: drillParam(d) });
  const drillHref = (d: Drill) => {
    const q = new URLSearchParams(params.toString());
    q.set("cards", drillParam(d));
    return `/analytics?${q.toString()}`;
  };

  const byProfile = useMemo(
    () => (flow && profileQ.data ? costPerDoneByProfile(profileQ.data.groups, flow.by_profile) : []),
    [flow, profileQ.data],
  );
  const byModel = useMemo(
    () => (flow && modelQ.data ? costPerDoneByModel(modelQ.data.groups, flow.done) : []),
    [flow, modelQ.data],
  );
  const totalCost = profileQ.data?.total.cost_micro_usd ?? null;

  return (
    <div data-testid="analytics" data-board={board ?? ""} className="min-h-screen bg-bg">
      <header className="flex flex-wrap items-center gap-3 border-line border-b bg-panel px-4 py-2">
        <a href={boardHref(board)} data-testid="back-to-board" className="text-muted hover:text-fg">
          ← Board
        </a>
        <h1 className="font-semibold text-[15px]">
          Analytics <span className="text-muted">· {board ?? "current board"}</span>
        </h1>
        <span className="flex-1" />
        <fieldset className="flex items-center gap-1" aria-label="Window">
          <span className="mr-1 text-muted text-xs">Cards done in the last</span>
          {WINDOWS.map((w) => (
            <button
              key={w}
              type="button"
              data-testid={`window-${w}`}
              aria-pressed={w === win}
              className={cx(
                "h-7 rounded-md px-2.5 text-[13px]",
                w === win ? "bg-accent text-accent-fg" : "border border-line bg-panel hover:bg-hover",
              )}
              onClick={() => setParams({ since: w, cards: null })}
            >
              {w.replace("d", " d")}
            </button>
          ))}
        </fieldset>
      </header>

      {flowQ.error && (
        <div role="alert" className="m-4 rounded-lg border border-danger/40 bg-danger-soft p-3 text-danger">
          The flow could not be loaded: {errorMessage(flowQ.error)}
        </div>
      )}
      {!flow && !flowQ.error && <p className="p-6 text-muted">Loading analytics…</p>}
      {flow && (
        <main className="mx-auto grid max-w-[1400px] gap-3 p-4">
          <div className="grid grid-cols-2 gap-3 md:grid-cols-3 xl:grid-cols-6">
            <Tile
              testId="flow-done"
              label="Cards done"
              value={String(flow.done)}
              sub={`in ${win.replace("d", " days")}`}
            />
            <Tile
              testId="flow-cycle"
              label="Cycle time (claim → done)"
              value={`p50 ${duration(flow.cycle_time_seconds.p50)}`}
              sub={`p90 ${duration(flow.cycle_time_seconds.p90)}`}
            />
            <Tile
              testId="flow-lead"
              label="Lead time (created → done)"
              value={`p50 ${duration(flow.lead_time_seconds.p50)}`}
              sub={`p90 ${duration(flow.lead_time_seconds.p90)}`}
            />
            <Tile
              testId="flow-ready"
              label="Ready queue now"
              value={`${flow.ready_queue.count} card${flow.ready_queue.count === 1 ? "" : "s"}`}
              sub={
                flow.ready_queue.count === 0
                  ? "nothing waiting"
                  : `waiting p50 ${duration(flow.ready_queue.age_seconds.p50)}, oldest ${duration(flow.ready_queue.age_seconds.max)}`
              }
              onClick={() => pick({ kind: "ready" })}
            />
            <Tile
              testId="flow-rework"
              label="Rework"
              value={flow.rework.runs_per_done_card === null ? "—" : `${flow.rework.runs_per_done_card} runs / card`}
              sub={`${flow.rework.reworked_cards} card${flow.rework.reworked_cards === 1 ? "" : "s"} needed more than one run`}
            />
            <Tile
              testId="flow-cost"
              label="Cost per done card"
              value={totalCost === null || flow.done === 0 ? "—" : money(Math.round(totalCost / flow.done))}
              sub={totalCost === null ? undefined : `${money(totalCost)} reported in the window`}
            />
          </div>

          {drill && (
            <DrillPanel
              key={`${board ?? ""} ${drillParam(drill)}`}
              board={board}
              drill={drill}
              window={{ since: flow.since, until: flow.until }}
              onClose={() => setParams({ cards: null })}
            />
          )}

          <div className="grid gap-3 lg:grid-cols-3">
            <div className="lg:col-span-2">
              <Panel testId="throughput" title="Throughput: cards done per UTC day (click a bar for its cards)">
                {flow.done === 0 ? (
                  <Empty testId="throughput-empty">No card done in this window.</Empty>
                ) : (
                  <ThroughputChart
                    rows={flow.throughput}
                    onPick={(day) => pick({ kind: "day", day })}
                    hrefOf={(day) => drillHref({ kind: "day", day })}
                  />
                )}
              </Panel>
            </div>
            <Panel testId="time-in-status" title="Time in status of the cards done (p50 / p90)">
              {flow.done === 0 ? (
                <Empty>No card done in this window.</Empty>
              ) : (
                <TimeInStatusChart tis={flow.time_in_status_seconds} />
              )}
            </Panel>
          </div>

          <div className="grid gap-3 lg:grid-cols-2">
            <Panel testId="blocked" title="Blocked episodes begun in the window, by reason">
              {flow.blocked.length === 0 ? (
                <Empty testId="blocked-empty">No card was blocked in this window.</Empty>
              ) : (
                <table className="w-full text-left text-[13px] tabular-nums">
                  <thead>
                    <tr className="text-muted text-xs">
                      <th className="py-1 font-medium">Reason</th>
                      <th className="py-1 text-right font-medium">Episodes</th>
                      <th className="py-1 text-right font-medium">Still open</th>
                      <th className="py-1 text-right font-medium">Blocked p50</th>
                      <th className="py-1 text-right font-medium">p90</th>
                    </tr>
                  </thead>
                  <tbody>
                    {flow.blocked.map((r) => (
                      <tr
                        key={r.reason}
                        data-testid="blocked-row"
                        data-reason={r.reason}
                        className="border-line border-t"
                      >
                        <td className="py-1">
                          <button
                            type="button"
                            data-testid={`blocked-${r.reason}`}
                            className="text-accent hover:underline"
                            onClick={() => pick({ kind: "blocked", reason: r.reason })}
                          >
                            {r.reason}
                          </button>
                        </td>
                        <td className="py-1 text-right">{r.episodes}</td>
                        <td className="py-1 text-right">{r.open}</td>
                        <td className="py-1 text-right">{duration(r.seconds.p50)}</td>
                        <td className="py-1 text-right">{duration(r.seconds.p90)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </Panel>

            <Panel testId="profiles" title="Runs ended in the window, by profile">
              {flow.by_profile.length === 0 ? (
                <Empty testId="profiles-empty">No run ended in this window.</Empty>
              ) : (
                <table className="w-full text-left text-[13px] tabular-nums">
                  <thead>
                    <tr className="text-muted text-xs">
                      <th className="py-1 font-medium">Profile</th>
                      <th className="py-1 text-right font-medium">Runs</th>
                      <th className="py-1 text-right font-medium">Completed</th>
                      <th className="py-1 text-right font-medium">Success rate</th>
                      <th className="py-1 pl-3 font-medium">Other endings</th>
                    </tr>
                  </thead>
                  <tbody>
                    {flow.by_profile.map((p) => (
                      <tr
                        key={p.profile}
                        data-testid="profile-row"
                        data-profile={p.profile}
                        className="border-line border-t"
                      >
                        <td className="py-1">
                          <button
                            type="button"
                            className="text-accent hover:underline"
                            onClick={() => pick({ kind: "profile", profile: p.profile })}
                          >
                            {p.profile}
                          </button>
                        </td>
                        <td className="py-1 text-right">{p.runs}</td>
                        <td className="py-1 text-right">{p.completed}</td>
                        <td data-testid="profile-success" className="py-1 text-right font-medium">
                          {percent(p.success_rate)}
                        </td>
                        <td className="py-1 pl-3 text-muted text-xs">
                          {Object.entries(p.outcomes)
                            .filter(([k]) => k !== "completed")
                            .map(([k, n]) => `${k} ${n}`)
                            .join(", ") || "—"}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </Panel>
          </div>

          <div className="grid gap-3 lg:grid-cols-2">
            <Panel testId="cost-profile" title="Cost per done card, by profile">
              <CostTable
                testId="cost-by-profile"
                rows={byProfile}
                divisor="Runs of this profile that completed in the window"
              />
              <p className="mt-2 text-faint text-xs">
                The profile's usage reported in the window, divided by its runs that ended completed in the window (one
                per card it finished).
              </p>
            </Panel>
            <Panel testId="cost-model" title="Cost per done card, by model">
              <CostTable testId="cost-by-model" rows={byModel} divisor="Every card done in the window" />
              <p className="mt-2 text-faint text-xs">
                The model's usage reported in the window, divided by all {flow.done} cards done in the window (a card
                does not record which model finished it), so the rows add up to the board's cost per done card.
              </p>
            </Panel>
          </div>
        </main>
      )}
    </div>
  );
}
