"use client";

import { HALLUCINATION_EVENT_KINDS } from "@kanban/contract";
import { useQuery } from "@tanstack/react-query";
import { type RefObject, useEffect, useId, useState } from "react";
import { useNow } from "../hooks/use-now.ts";
import { columnLabel } from "../lib/columns.ts";
import { ago, SEVERITY_CLASS, shortDuration, stamp } from "../lib/format.ts";
import type { DiagnosticData, Profile, TaskDetail, TaskEventData } from "../lib/types.ts";
import { errorMessage, useTRPC, useTRPCClient } from "../trpc/react.tsx";
import { CopyIcon, WarnIcon, XIcon } from "./icons.tsx";
import { Markdown } from "./markdown.tsx";
import { useToasts } from "./toasts.tsx";
import { Button, Chip, cx, Input, SectionTitle, Select, Textarea } from "./ui.tsx";
import { onEnter } from "../lib/keyboard.ts";
import { reassignRefusal, reassignTargets } from "../lib/reassign.ts";
import { DISPLAY_NAME_MAX, normaliseDisplayName, readDisplayName, writeDisplayName } from "../lib/display-name.ts";
import { useDialogs } from "./dialogs.tsx";
import { GATE_EVENT_LABELS, gateEventLine } from "../lib/gates.ts";

export interface DrawerContext {
  board: string | undefined;
  id: string;
  detail: TaskDetail;
  refresh: (ids?: Iterable<string>) => void;
  plainText: boolean;
  openTask: (id: string) => void;
}

export interface TaskOption {
  id: string;
  title: string;
}

/** Copies text, with a fallback for pages that are not a secure context. */
async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = document.createElement("textarea");
    area.value = text;
    document.body.appendChild(area);
    area.select();
    const ok = document.execCommand("copy");
    area.remove();
    return ok;
  }
}

export function CopyButton({ text, label, testId }: { text: string; label: string; testId?: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <Button
      size="sm"
      variant="subtle"
      data-testid={testId}
      aria-label={label}
      onClick={async () => {
        setCopied(await copyText(text));
        setTimeout(() => setCopied(false), 1500);
      }}
    >
      <CopyIcon width={12} height={12} />
      {copied ? "Copied" : "Copy"}
    </Button>
  );
}

export const STATUS_PILL: Record<string, string> = {
  triage: "text-fuchsia-600 dark:text-fuchsia-300",
  todo: "text-muted",
  scheduled: "text-sky-600 dark:text-sky-300",
  ready: "text-blue-600 dark:text-blue-300",
  running: "text-amber-600 dark:text-amber-300",
  blocked: "text-red-600 dark:text-red-300",
  review: "text-violet-600 dark:text-violet-300",
  done: "text-emerald-600 dark:text-emerald-300",
  archived: "text-faint",
};

// ---------------------------------------------------------------- dependencies

function LinkList({
  kind,
  ctx,
  items,
  options,
}: {
  kind: "parent" | "child";
  ctx: DrawerContext;
  items: TaskDetail["links"]["parents"];
  options: TaskOption[];
}) {
  const client = useTRPCClient();
  const toasts = useToasts();
  const [value, setValue] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const listId = useId();
  const linked = new Set(items.map((i) => i.id));
  const choices = options.filter((o) => o.id !== ctx.id && !linked.has(o.id)).slice(0, 500);
  const edge = (other: string) =>
    kind === "parent" ? { parent_id: other, child_id: ctx.id } : { parent_id: ctx.id, child_id: other };

  const add = async () => {
    // Accept "t_abc — title" from the datalist as well as a bare id.
    const other = value.trim().split(/\s/)[0] ?? "";
    if (!other) return;
    setBusy(true);
    setError(null);
    try {
      await client.links.add.mutate({ board: ctx.board, ...edge(other) });
      setValue("");
      ctx.refresh([ctx.id, other]);
    } catch (err) {
      setError(errorMessage(err));
      toasts.push({ kind: "error", title: `Could not add ${kind}`, body: errorMessage(err) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="space-y-1.5">
      <div className="text-muted text-xs">
        {kind === "parent" ? "Parents (must finish first)" : "Children (wait for this task)"}
      </div>
      <div className="flex flex-wrap gap-1">
        {items.length === 0 && <span className="text-faint text-xs">None</span>}
        {items.map((l) => (
          <span
            key={l.id}
            data-testid={`${kind}-${l.id}`}
            className="inline-flex max-w-full items-center gap-1 rounded-md border border-line bg-panel px-1.5 py-0.5 text-xs"
          >
            <button
              type="button"
              className="font-mono text-faint hover:text-accent hover:underline"
              onClick={() => ctx.openTask(l.id)}
            >
              {l.id}
            </button>
            <span className="max-w-[180px] truncate">{l.title}</span>
            <span className={cx("text-[11px]", STATUS_PILL[l.status])}>{columnLabel(l.status)}</span>
            <button
              type="button"
              aria-label={`Remove ${kind} ${l.id}`}
              data-testid={`remove-${kind}-${l.id}`}
              className="rounded text-faint hover:text-danger"
              onClick={async () => {
                try {
                  await client.links.remove.mutate({ board: ctx.board, ...edge(l.id) });
                  ctx.refresh([ctx.id, l.id]);
                } catch (err) {
                  toasts.push({ kind: "error", title: `Could not remove ${kind}`, body: errorMessage(err) });
                }
              }}
            >
              <XIcon width={12} height={12} />
            </button>
          </span>
        ))}
      </div>
      <div className="flex gap-1.5">
        <Input
          list={listId}
          aria-label={`Add a ${kind} (task id)`}
          data-testid={`add-${kind}-input`}
          placeholder={`Add ${kind} by id…`}
          value={value}
          onChange={(e) => setValue(e.target.value)}
          onKeyDown={onEnter(() => void add())}
        />
        <datalist id={listId}>
          {choices.map((o) => (
            <option key={o.id} value={o.id}>
              {o.title}
            </option>
          ))}
        </datalist>
        <Button data-testid={`add-${kind}`} disabled={busy || !value.trim()} onClick={() => void add()}>
          Add
        </Button>
      </div>
      {error && (
        <p data-testid="deps-error" role="alert" className="text-danger text-xs">
          {error}
        </p>
      )}
    </div>
  );
}

export function Dependencies({ ctx, options }: { ctx: DrawerContext; options: TaskOption[] }) {
  return (
    <section data-testid="dependencies">
      <SectionTitle>Dependencies</SectionTitle>
      <div className="grid gap-3">
        <LinkList kind="parent" ctx={ctx} items={ctx.detail.links.parents} options={options} />
        <LinkList kind="child" ctx={ctx} items={ctx.detail.links.children} options={options} />
      </div>
    </section>
  );
}

// ---------------------------------------------------------------- recovery

function DiagnosticRow({
  d,
  onAction,
}: {
  d: DiagnosticData;
  onAction: (a: DiagnosticData["actions"][number]) => void;
}) {
  return (
    <div data-testid={`diagnostic-${d.kind}`} className="rounded-lg border border-line bg-panel p-2.5">
      <div className="flex items-center gap-2">
        <span
          className={cx("rounded px-1.5 py-px font-medium text-[11px] ring-1 ring-inset", SEVERITY_CLASS[d.severity])}
        >
          {d.severity}
        </span>
        <span className="font-medium">{d.title}</span>
        {d.count > 1 && <span className="text-faint text-xs">×{d.count}</span>}
      </div>
      <p className="mt-1 text-muted">{d.detail}</p>
      {Object.keys(d.data).length > 0 && (
        <dl className="mt-1.5 grid grid-cols-[auto_1fr] gap-x-3 gap-y-0.5 text-xs">
          {Object.entries(d.data).map(([k, v]) => (
            <div key={k} className="contents">
              <dt className="text-faint">{k}</dt>
              <dd className="break-all font-mono">{typeof v === "string" ? v : JSON.stringify(v)}</dd>
            </div>
          ))}
        </dl>
      )}
      {d.actions.length > 0 && (
        <div className="mt-2 flex flex-wrap gap-1.5">
          {d.actions.map((a) =>
            a.kind === "cli_hint" ? (
              <span
                key={`${a.kind}:${a.label}`}
                className="inline-flex items-center gap-1.5 rounded-md bg-panel-2 py-0.5 pr-0.5 pl-2 text-xs"
                title={a.label}
              >
                <code className="font-mono">{String(a.payload?.command ?? "")}</code>
                <CopyButton text={String(a.payload?.command ?? "")} label={`Copy: ${a.label}`} />
              </span>
            ) : (
              <Button
                key={`${a.kind}:${a.label}`}
                size="sm"
                variant={a.suggested ? "primary" : "default"}
                onClick={() => onAction(a)}
              >
                {a.suggested ? "★ " : ""}
                {a.label}
              </Button>
            ),
          )}
        </div>
      )}
    </div>
  );
}

/** The placeholder of the reassign list: no assignee can be named this (ids and names never hold NUL). */
const NO_CHOICE = "\u0000";

/**
 * What a person does when a task is stuck: the diagnostics with their suggested actions, plus
 * Reclaim and Reassign (with reclaim-first) and the command for changing a profile's model.
 * Open when the task has warnings, collapsed otherwise.
 */
export function Recovery({
  ctx,
  profiles,
  assignees,
  onFocusComment,
}: {
  ctx: DrawerContext;
  profiles: Profile[];
  assignees: string[];
  onFocusComment: () => void;
}) {
  const client = useTRPCClient();
  const toasts = useToasts();
  const task = ctx.detail.task;
  const diagnostics = ctx.detail.diagnostics;
  const hasWarnings = diagnostics.length > 0 || task.warnings !== null;
  const [open, setOpen] = useState(hasWarnings);
  useEffect(() => {
    if (hasWarnings) setOpen(true);
  }, [hasWarnings]);
  const dialogs = useDialogs();
  // Never offers the current assignee: handing a stuck task back to the profile that is failing it
  // changes nothing. The list starts on "Choose a profile…" so a reassignment is always deliberate.
  const targets = reassignTargets([...profiles.map((p) => p.name), ...assignees], task.assignee);
  const [profile, setProfile] = useState<string | null>(null);
  const [reclaimFirst, setReclaimFirst] = useState(true);
  const [modelProfile, setModelProfile] = useState(task.assignee ?? profiles[0]?.name ?? "");
  const running = task.status === "running";

  const reclaim = async () => {
    try {
      await client.tasks.reclaim.mutate({ board: ctx.board, id: ctx.id, reason: "reclaimed from the board" });
      toasts.push({
        kind: "success",
        title: `Reclaimed ${ctx.id}`,
        body: "The claim was released and the worker stopped; the task is ready again.",
      });
    } catch (err) {
      toasts.push({ kind: "error", title: "Reclaim failed", body: errorMessage(err) });
    } finally {
      ctx.refresh([ctx.id]);
    }
  };
  const reassign = async (to: string) => {
    const refusal = reassignRefusal(to, task.assignee);
    if (refusal) {
      toasts.push({ kind: "warning", title: "Not reassigned", body: refusal });
      return;
    }
    try {
      const r = await client.tasks.reassign.mutate({
        board: ctx.board,
        id: ctx.id,
        profile: to,
        reclaim_first: reclaimFirst,
        reason: "reassigned from the board",
      });
      toasts.push({
        kind: "success",
        title: `Reassigned ${ctx.id}`,
        body: r.assignee ? `Now assigned to ${r.assignee}.` : "Now unassigned.",
      });
    } catch (err) {
      toasts.push({ kind: "error", title: "Reassign failed", body: errorMessage(err) });
    } finally {
      ctx.refresh([ctx.id]);
    }
  };
  /** "Reassign to another profile": asks which one, offering only profiles other than the current. */
  const chooseAndReassign = async () => {
    if (targets.length === 0) {
      toasts.push({
        kind: "warning",
        title: "No other profile to reassign to",
        body: `${task.assignee ?? "This task"} is the only profile known here. Add another profile to config.json (or create the Hermes profile), then reassign.`,
      });
      return;
    }
    const to = await dialogs.choose({
      title: `Reassign ${ctx.id} to another profile`,
      body: task.assignee
        ? `It is assigned to ${task.assignee} now${reclaimFirst ? "; the current claim is released first" : ""}.`
        : undefined,
      label: "Profile",
      options: targets,
      confirmLabel: "Reassign",
    });
    if (to !== null) await reassign(to);
  };
  const onAction = (a: DiagnosticData["actions"][number]) => {
    if (a.kind === "reclaim") void reclaim();
    else if (a.kind === "reassign") {
      if (typeof a.payload?.profile === "string" && a.payload.profile !== task.assignee)
        void reassign(a.payload.profile);
      else void chooseAndReassign();
    } else if (a.kind === "unblock") {
      client.tasks.unblock
        .mutate({ board: ctx.board, id: ctx.id })
        .then(() => ctx.refresh([ctx.id]))
        .catch((err: unknown) => toasts.push({ kind: "error", title: "Unblock failed", body: errorMessage(err) }));
    } else if (a.kind === "comment") onFocusComment();
    else if (a.kind === "open_docs" && typeof a.payload?.url === "string")
      window.open(a.payload.url, "_blank", "noopener,noreferrer");
  };
  const model = profiles.find((p) => p.name === modelProfile)?.model ?? "<model>";
  const modelHint = `"profiles": { "${modelProfile || "<profile>"}": { "model": "${model}" } }`;

  return (
    <details
      data-testid="recovery"
      open={open}
      onToggle={(e) => setOpen(e.currentTarget.open)}
      className={cx("rounded-lg border", hasWarnings ? "border-danger/40 bg-danger-soft/40" : "border-line")}
    >
      <summary className="flex cursor-pointer select-none items-center gap-2 px-3 py-2 font-semibold text-[11px] text-muted uppercase tracking-wide">
        {hasWarnings && <WarnIcon className="text-danger" />}
        Recovery
        {diagnostics.length > 0 && (
          <span className="font-normal text-danger normal-case tracking-normal">
            {diagnostics.length} problem{diagnostics.length > 1 ? "s" : ""}
          </span>
        )}
      </summary>
      <div className="space-y-2.5 px-3 pb-3">
        {diagnostics.map((d) => (
          <DiagnosticRow key={`${d.kind}:${d.run_id ?? ""}`} d={d} onAction={onAction} />
        ))}
        <div className="flex flex-wrap items-center gap-2">
          <Button
            data-testid="recovery-reclaim"
            disabled={!running}
            onClick={() => void reclaim()}
            title={running ? "Release the claim now and stop the worker" : "Only a running task has a claim to release"}
          >
            Reclaim
          </Button>
          <span className="text-faint text-xs">
            {running
              ? "Releases the claim and stops the worker; the task goes back to ready."
              : "Not running: nothing to reclaim."}
          </span>
        </div>
        <div className="flex flex-wrap items-center gap-2">
          <Select
            aria-label="Reassign to profile"
            data-testid="recovery-profile"
            value={profile ?? NO_CHOICE}
            onChange={(e) => setProfile(e.target.value)}
          >
            <option value={NO_CHOICE} disabled>
              Choose a profile…
            </option>
            {task.assignee && <option value="">(unassign)</option>}
            {targets.map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </Select>
          <label className="inline-flex items-center gap-1.5 text-xs">
            <input
              type="checkbox"
              data-testid="recovery-reclaim-first"
              checked={reclaimFirst}
              onChange={(e) => setReclaimFirst(e.target.checked)}
              className="accent-[var(--accent)]"
            />
            Reclaim first
          </label>
          <Button
            data-testid="recovery-reassign"
            disabled={profile === null}
            title={profile === null ? "Choose a profile other than the current one first" : undefined}
            onClick={() => {
              if (profile !== null) void reassign(profile);
            }}
          >
            Reassign
          </Button>
        </div>
        <div className="space-y-1">
          <div className="flex flex-wrap items-center gap-2 text-xs">
            <span className="text-muted">Change a profile's model: set it in config.json under</span>
            <Select
              aria-label="Profile whose model to change"
              className="h-6 text-xs"
              value={modelProfile}
              onChange={(e) => setModelProfile(e.target.value)}
            >
              {profiles.length === 0 && <option value="">(no profiles configured)</option>}
              {profiles.map((p) => (
                <option key={p.name} value={p.name}>
                  {p.name}
                </option>
              ))}
            </Select>
          </div>
          <div className="flex items-center gap-1.5">
            <code
              data-testid="model-hint"
              className="min-w-0 flex-1 truncate rounded bg-panel-2 px-2 py-1 font-mono text-xs"
            >
              {modelHint}
            </code>
            <CopyButton text={modelHint} label="Copy the model setting" testId="copy-model-hint" />
          </div>
        </div>
      </div>
    </details>
  );
}

// ---------------------------------------------------------------- runs, log

const OUTCOME_CLASS: Record<string, string> = {
  completed: "text-ok",
  blocked: "text-warn",
  crashed: "text-danger",
  timed_out: "text-danger",
  spawn_failed: "text-danger",
  gave_up: "text-danger",
  reclaimed: "text-muted",
};

export function RunHistory({ ctx }: { ctx: DrawerContext }) {
  const now = useNow();
  const [all, setAll] = useState(false);
  const runs = [...ctx.detail.runs].sort((a, b) => b.id - a.id);
  const shown = all ? runs : runs.slice(0, 5);
  return (
    <section data-testid="runs">
      <SectionTitle
        right={
          runs.length > 5 && (
            <Button size="sm" variant="ghost" onClick={() => setAll(!all)}>
              {all ? "Show fewer" : `Show all ${runs.length} attempts`}
            </Button>
          )
        }
      >
        Run history
      </SectionTitle>
      {runs.length === 0 && <p className="text-faint text-xs">No attempts yet.</p>}
      <ol className="space-y-1.5">
        {shown.map((r) => (
          <li key={r.id} data-testid={`run-${r.id}`} className="rounded-md border border-line bg-panel px-2.5 py-1.5">
            <div className="flex flex-wrap items-center gap-x-2 text-xs">
              <span className="font-mono text-faint">#{r.id}</span>
              <span
                className={cx(
                  "font-medium",
                  r.ended_at === null
                    ? "text-amber-600 dark:text-amber-300"
                    : (OUTCOME_CLASS[r.outcome ?? ""] ?? "text-muted"),
                )}
              >
                {r.ended_at === null ? "running" : (r.outcome ?? r.status)}
              </span>
              {r.profile && <span>@{r.profile}</span>}
              <span className="text-muted" title="Elapsed">
                {shortDuration((r.ended_at ?? now) - r.started_at)}
              </span>
              <span className="text-faint" title={stamp(r.started_at)}>
                started {ago(r.started_at, now)}
              </span>
              {r.worker_pid !== null && <span className="text-faint">pid {r.worker_pid}</span>}
            </div>
            {r.summary && <p className="mt-0.5 whitespace-pre-wrap break-words">{r.summary}</p>}
            {r.error && (
              <p className="mt-0.5 whitespace-pre-wrap break-words font-mono text-danger text-xs">{r.error}</p>
            )}
            {r.metadata && Object.keys(r.metadata).length > 0 && (
              <details className="mt-0.5 text-xs">
                <summary className="cursor-pointer text-muted">metadata</summary>
                <pre className="mt-1 overflow-x-auto rounded bg-panel-2 p-1.5 font-mono">
                  {JSON.stringify(r.metadata, null, 2)}
                </pre>
              </details>
            )}
          </li>
        ))}
      </ol>
    </section>
  );
}

/** Bytes per page of the worker log. */
const LOG_PAGE = 32_768;

/**
 * The worker log: its last 32 KB, following the worker while the card runs. "Show earlier output"
 * pages back 32 KB at a time; while earlier output is shown the view holds still (reading history
 * should not jump), and "Back to the end" follows the log again.
 */
export function WorkerLog({ ctx }: { ctx: DrawerContext }) {
  const trpc = useTRPC();
  const client = useTRPCClient();
  const [open, setOpen] = useState(ctx.detail.task.status === "running");
  const log = useQuery({
    ...trpc.tasks.log.queryOptions({ board: ctx.board, id: ctx.id, tail: LOG_PAGE }),
    enabled: open,
  });
  // Pages read back, oldest first, and the tail they continue (held while reading history).
  const [history, setHistory] = useState<{
    id: string;
    pages: string[];
    start: number;
    tail: NonNullable<typeof log.data>;
  } | null>(null);
  const [paging, setPaging] = useState<string | null>(null);
  const held = history?.id === ctx.id ? history : null;
  const shown = held?.tail ?? log.data;
  const start = held ? held.start : (log.data?.start ?? 0);
  const earlier = async () => {
    const tail = held?.tail ?? log.data;
    if (!tail) return;
    setPaging("Loading…");
    try {
      const page = await client.tasks.log.query({ board: ctx.board, id: ctx.id, tail: LOG_PAGE, before: start });
      setHistory({ id: ctx.id, pages: [page.content, ...(held?.pages ?? [])], start: page.start, tail });
      setPaging(null);
    } catch (err) {
      setPaging(errorMessage(err));
    }
  };
  return (
    <details
      data-testid="worker-log"
      open={open}
      onToggle={(e) => setOpen(e.currentTarget.open)}
      className="rounded-lg border border-line"
    >
      <summary className="flex cursor-pointer select-none items-center gap-2 px-3 py-2 font-semibold text-[11px] text-muted uppercase tracking-wide">
        Worker log
      </summary>
      <div className="px-3 pb-3">
        <div className="mb-1.5 flex items-center justify-between gap-2 text-faint text-xs">
          <span className="truncate">
            {shown
              ? shown.exists
                ? `${shown.path} · ${shown.size_bytes} bytes${start > 0 ? ` (from byte ${start})` : ""}`
                : "No log yet"
              : "…"}
          </span>
          {shown?.exists && start > 0 && (
            <Button size="sm" variant="ghost" data-testid="log-earlier" onClick={() => void earlier()}>
              {paging ?? "Show earlier output"}
            </Button>
          )}
          {held ? (
            <Button size="sm" variant="ghost" data-testid="log-follow" onClick={() => setHistory(null)}>
              Back to the end
            </Button>
          ) : (
            <Button size="sm" variant="ghost" onClick={() => void log.refetch()}>
              Refresh
            </Button>
          )}
        </div>
        {shown?.exists && (
          <pre
            data-testid="log-content"
            className="max-h-64 overflow-auto whitespace-pre-wrap break-words rounded bg-panel-2 p-2 font-mono text-[11px]"
          >
            {(held ? held.pages.join("") : "") + shown.content || "(empty)"}
          </pre>
        )}
        {log.error && <p className="text-danger text-xs">{errorMessage(log.error)}</p>}
      </div>
    </details>
  );
}

// ---------------------------------------------------------------- comments

function browserStorage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

/**
 * The name this browser signs comments with: asked for once (stored in localStorage), changeable
 * at any time. Without it every comment from the board would read "dashboard".
 */
export function useDisplayName() {
  const dialogs = useDialogs();
  const [name, setName] = useState<string | null>(null);
  useEffect(() => setName(readDisplayName(browserStorage())), []);
  const ask = async (first: boolean): Promise<string | null> => {
    const typed = await dialogs.prompt({
      title: first ? "Who is commenting?" : "Change your display name",
      body: "Your comments are signed with this name. It is kept in this browser; change it any time from the comment box.",
      label: "Display name",
      required: true,
      initial: name ?? "",
      confirmLabel: "Save",
    });
    if (typed === null) return null;
    const clean = normaliseDisplayName(typed);
    if (clean === null) return null;
    writeDisplayName(browserStorage(), clean);
    setName(clean);
    return clean;
  };
  return { name, ask };
}

type CommentData = TaskDetail["comments"][number];

/** Comments per "Show earlier" page. */
const EARLIER_PAGE = 100;

/**
 * The drawer's comments: the task's newest page comes with it, earlier ones are fetched a page at a
 * time on request, so a discussion of thousands costs the drawer nothing until someone reads back.
 * Every comment seen is kept while the drawer shows the task (a refresh's newest page can shift past
 * one the reader already had).
 */
function usePagedComments(ctx: DrawerContext) {
  const client = useTRPCClient();
  const [kept, setKept] = useState<{ id: string; comments: Map<number, CommentData> }>(() => ({
    id: ctx.id,
    comments: new Map(),
  }));
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const current = new Map<number, CommentData>(kept.id === ctx.id ? kept.comments : []);
  for (const c of ctx.detail.comments) current.set(c.id, c);
  const comments = [...current.values()].sort((a, b) => a.created_at - b.created_at || a.id - b.id);
  const remaining = Math.max(0, ctx.detail.comments_total - comments.length);
  const loadEarlier = async () => {
    const oldest = comments[0];
    if (!oldest) return;
    setLoading(true);
    setError(null);
    try {
      const page = await client.comments.list.query({
        board: ctx.board,
        task_id: ctx.id,
        before: oldest.id,
        limit: EARLIER_PAGE,
      });
      const next = new Map(current);
      for (const c of page.comments) next.set(c.id, c);
      setKept({ id: ctx.id, comments: next });
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setLoading(false);
    }
  };
  return { comments, remaining, loadEarlier, loading, error };
}

export function Comments({ ctx, inputRef }: { ctx: DrawerContext; inputRef: RefObject<HTMLTextAreaElement | null> }) {
  const client = useTRPCClient();
  const toasts = useToasts();
  const now = useNow();
  const [body, setBody] = useState("");
  const [busy, setBusy] = useState(false);
  const who = useDisplayName();
  const paged = usePagedComments(ctx);
  const submit = async () => {
    if (!body.trim()) return;
    const author = who.name ?? (await who.ask(true));
    if (author === null) {
      toasts.push({
        kind: "warning",
        title: "Comment not added",
        body: `A display name (1–${DISPLAY_NAME_MAX} characters) signs your comments.`,
      });
      return;
    }
    setBusy(true);
    try {
      await client.comments.add.mutate({ board: ctx.board, task_id: ctx.id, body, author });
      setBody("");
      ctx.refresh([ctx.id]);
    } catch (err) {
      toasts.push({ kind: "error", title: "Comment not added", body: errorMessage(err) });
    } finally {
      setBusy(false);
    }
  };
  return (
    <section data-testid="comments">
      <SectionTitle>Comments</SectionTitle>
      {paged.remaining > 0 && (
        <div className="mb-2 flex items-center gap-2">
          <Button data-testid="comments-earlier" disabled={paged.loading} onClick={() => void paged.loadEarlier()}>
            {paged.loading ? "Loading…" : `Show earlier comments (${paged.remaining} more)`}
          </Button>
          {paged.error && <span className="text-danger text-xs">{paged.error}</span>}
        </div>
      )}
      <ol className="space-y-2" data-testid="comment-list">
        {paged.comments.map((c) => (
          <li
            key={c.id}
            data-testid={`comment-${c.id}`}
            className="rounded-md border border-line bg-panel px-2.5 py-1.5"
          >
            <div className="flex items-center gap-2 text-xs">
              <span className="font-medium">{c.author}</span>
              <span className="text-faint" title={stamp(c.created_at)}>
                {ago(c.created_at, now)}
              </span>
            </div>
            <div className="mt-0.5">
              <Markdown text={c.body} plain={ctx.plainText} />
            </div>
          </li>
        ))}
      </ol>
      <div className="mt-2 space-y-1.5">
        <Textarea
          ref={inputRef}
          rows={2}
          aria-label="Add a comment"
          data-testid="comment-input"
          placeholder="Leave a comment… (Enter to send, Shift+Enter for a new line)"
          value={body}
          disabled={busy}
          onChange={(e) => setBody(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter" && !e.shiftKey) {
              e.preventDefault();
              void submit();
            }
          }}
        />
        <div className="flex items-center justify-end gap-2">
          {who.name && (
            <span className="mr-auto text-faint text-xs">
              Commenting as{" "}
              <span data-testid="comment-author" className="font-medium text-muted">
                {who.name}
              </span>{" "}
              ·{" "}
              <button
                type="button"
                data-testid="comment-author-change"
                className="text-accent hover:underline"
                onClick={() => void who.ask(false)}
              >
                change
              </button>
            </span>
          )}
          <Button
            data-testid="comment-submit"
            variant="primary"
            size="sm"
            disabled={busy || !body.trim()}
            onClick={() => void submit()}
          >
            Comment
          </Button>
        </div>
      </div>
    </section>
  );
}

// ---------------------------------------------------------------- events

const HALLUCINATION_KINDS = new Set<string>(HALLUCINATION_EVENT_KINDS);

/** Phantom ids an event names (created cards that do not exist, or references in prose). */
export function phantomIds(e: Pick<TaskEventData, "payload">): string[] {
  const p = e.payload ?? {};
  const out: string[] = [];
  for (const key of ["phantom_cards", "phantom_refs", "phantom"]) {
    const v = (p as Record<string, unknown>)[key];
    if (Array.isArray(v)) for (const x of v) if (typeof x === "string") out.push(x);
  }
  return out;
}

function payloadSummary(e: TaskEventData): string {
  const gate = gateEventLine(e.kind, e.payload);
  if (gate !== null) return gate;
  if (!e.payload) return "";
  const entries = Object.entries(e.payload).filter(([k]) => !["phantom_cards", "phantom_refs"].includes(k));
  return entries
    .slice(0, 4)
    .map(([k, v]) => `${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join(" · ");
}

export function EventsTimeline({ ctx }: { ctx: DrawerContext }) {
  const now = useNow();
  const [all, setAll] = useState(false);
  const events = [...ctx.detail.events].sort((a, b) => b.id - a.id);
  const shown = all ? events : events.slice(0, 20);
  return (
    <section data-testid="events">
      <SectionTitle
        right={
          events.length > 20 && (
            <Button size="sm" variant="ghost" onClick={() => setAll(!all)}>
              {all ? "Show fewer" : `Show all ${events.length}`}
            </Button>
          )
        }
      >
        Events
      </SectionTitle>
      <ol className="space-y-1">
        {shown.map((e) => {
          const bad = HALLUCINATION_KINDS.has(e.kind);
          const phantoms = phantomIds(e);
          return (
            <li
              key={e.id}
              data-testid={bad ? "event-hallucination" : `event-${e.kind}`}
              data-kind={e.kind}
              className={cx(
                "rounded-md px-2 py-1 text-xs",
                bad ? "border border-danger bg-danger-soft/60" : "border border-transparent",
              )}
            >
              <div className="flex items-center gap-2">
                {bad && <WarnIcon className="shrink-0 text-danger" aria-label="warning" />}
                <span className={cx("font-medium", bad && "text-danger")} title={e.kind}>
                  {GATE_EVENT_LABELS[e.kind] ?? e.kind}
                </span>
                {e.run_id !== null && <span className="text-faint">run #{e.run_id}</span>}
                <span className="flex-1" />
                <span className="text-faint" title={stamp(e.created_at)}>
                  {ago(e.created_at, now)}
                </span>
              </div>
              {phantoms.length > 0 && (
                <div className="mt-1 flex flex-wrap gap-1">
                  {phantoms.map((p) => (
                    <Chip
                      key={p}
                      data-testid="phantom-chip"
                      className="bg-danger-soft font-mono text-danger ring-danger/40"
                      title="This id does not exist on the board"
                    >
                      {p}
                    </Chip>
                  ))}
                </div>
              )}
              {payloadSummary(e) && <div className="mt-0.5 truncate text-muted">{payloadSummary(e)}</div>}
            </li>
          );
        })}
      </ol>
    </section>
  );
}

// ---------------------------------------------------------------- result

export function ResultSection({ ctx }: { ctx: DrawerContext }) {
  const task = ctx.detail.task;
  const lastMeta = [...ctx.detail.runs]
    .sort((a, b) => b.id - a.id)
    .find((r) => r.metadata && Object.keys(r.metadata).length > 0)?.metadata;
  if (!task.result && !task.latest_summary && !lastMeta && ctx.detail.child_results.length === 0) return null;
  return (
    <section data-testid="result" className="space-y-2">
      <SectionTitle>Result</SectionTitle>
      {task.result && <Markdown text={task.result} plain={ctx.plainText} testId="result-text" />}
      {task.latest_summary && task.latest_summary !== task.result && (
        <div>
          <div className="text-faint text-xs">Latest summary</div>
          <p className="whitespace-pre-wrap break-words">{task.latest_summary}</p>
        </div>
      )}
      {lastMeta && (
        <details className="text-xs">
          <summary className="cursor-pointer text-muted">Metadata</summary>
          <pre className="mt-1 overflow-x-auto rounded bg-panel-2 p-1.5 font-mono">
            {JSON.stringify(lastMeta, null, 2)}
          </pre>
        </details>
      )}
      {ctx.detail.child_results.length > 0 && (
        <div className="space-y-1">
          <div className="text-faint text-xs">Children's results</div>
          {ctx.detail.child_results.map((c) => (
            <div key={c.id} className="rounded-md border border-line px-2 py-1 text-xs">
              <span className="font-mono text-faint">{c.id}</span> {c.title}{" "}
              <span className={STATUS_PILL[c.status]}>{columnLabel(c.status)}</span>
              {(c.latest_summary ?? c.result) && (
                <p className="mt-0.5 line-clamp-3 text-muted">{c.latest_summary ?? c.result}</p>
              )}
            </div>
          ))}
        </div>
      )}
    </section>
  );
}
