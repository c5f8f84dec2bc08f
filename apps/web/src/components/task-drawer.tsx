"use client";

import { useQuery } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { useNow } from "../hooks/use-now.ts";
import { columnLabel } from "../lib/columns.ts";
import { ago, stamp } from "../lib/format.ts";
import { requiresOf, sameLabels } from "../lib/labels.ts";
import type { Profile } from "../lib/types.ts";
import { errorMessage, httpStatusOf, useTRPC, useTRPCClient } from "../trpc/react.tsx";
import { useDialogs } from "./dialogs.tsx";
import {
  Comments,
  CopyButton,
  Dependencies,
  type DrawerContext,
  EventsTimeline,
  Recovery,
  ResultSection,
  RunHistory,
  STATUS_PILL,
  type TaskOption,
  useDisplayName,
  WorkerLog,
} from "./drawer-sections.tsx";
import { XIcon } from "./icons.tsx";
import { LabelsInput } from "./labels-input.tsx";
import { CostSection } from "./cost-section.tsx";
import { NotificationsSection } from "./notifications.tsx";
import { GatesSection, useCardGates } from "./gates-section.tsx";
import { approveState, type GateStage } from "../lib/gates.ts";
import { Markdown } from "./markdown.tsx";
import { useToasts } from "./toasts.tsx";
import { WhyPanel } from "./why-panel.tsx";
import { Button, Chip, cx, Input, SectionTitle, Select, Spinner, Textarea } from "./ui.tsx";
import { onEnter } from "../lib/keyboard.ts";

export interface TaskDrawerProps {
  board: string | undefined;
  taskId: string;
  profiles: Profile[];
  assignees: string[];
  taskOptions: TaskOption[];
  plainText: boolean;
  onClose: () => void;
  onOpenTask: (id: string) => void;
  moveTasks: (ids: string[], target: string) => Promise<boolean>;
  deleteTasks: (ids: string[]) => Promise<boolean>;
  refresh: (ids?: Iterable<string>) => void;
}

function EditableTitle({ ctx }: { ctx: DrawerContext }) {
  const client = useTRPCClient();
  const toasts = useToasts();
  const [editing, setEditing] = useState(false);
  const [value, setValue] = useState(ctx.detail.task.title);
  const save = async () => {
    const title = value.trim();
    setEditing(false);
    if (!title || title === ctx.detail.task.title) return;
    try {
      await client.tasks.patch.mutate({ board: ctx.board, id: ctx.id, title });
      ctx.refresh([ctx.id]);
    } catch (err) {
      toasts.push({ kind: "error", title: "Title not saved", body: errorMessage(err) });
    }
  };
  if (editing) {
    return (
      <Input
        autoFocus
        aria-label="Title"
        data-testid="drawer-title-input"
        className="h-8 font-semibold text-[15px]"
        value={value}
        onChange={(e) => setValue(e.target.value)}
        onBlur={() => void save()}
        onKeyDown={(e) => {
          if (e.key === "Enter") {
            e.preventDefault();
            void save();
          } else if (e.key === "Escape") {
            e.preventDefault();
            e.stopPropagation();
            setValue(ctx.detail.task.title);
            setEditing(false);
          }
        }}
      />
    );
  }
  return (
    <h2 className="font-semibold text-[16px] leading-snug">
      <button
        type="button"
        data-testid="drawer-title"
        title="Click to edit"
        className="w-full rounded text-left hover:bg-hover"
        onClick={() => {
          setValue(ctx.detail.task.title);
          setEditing(true);
        }}
      >
        {ctx.detail.task.title}
      </button>
    </h2>
  );
}

/**
 * The labels a task requires of its host, edited in place: each chip added or removed is saved at
 * once (`tasks.patch` with the whole list); a refusal (the field's rule, or the kernel's) shows
 * under the field and the chips go back to what the task holds.
 */
function RequiresField({ ctx }: { ctx: DrawerContext }) {
  const client = useTRPCClient();
  const saved = requiresOf(ctx.detail.task);
  const [value, setValue] = useState(saved);
  const [error, setError] = useState<string | null>(null);
  const savedKey = saved.join(",");
  // biome-ignore lint/correctness/useExhaustiveDependencies: follow the task's list when it changes (a live event, another editor)
  useEffect(() => setValue(saved), [savedKey]);
  const save = async (next: string[]) => {
    setValue(next);
    if (sameLabels(next, saved)) return;
    try {
      await client.tasks.patch.mutate({ board: ctx.board, id: ctx.id, requires: next });
      setError(null);
    } catch (err) {
      setError(errorMessage(err));
      setValue(saved);
    } finally {
      ctx.refresh([ctx.id]);
    }
  };
  return (
    <LabelsInput
      testId="drawer-requires"
      value={value}
      onChange={(next) => void save(next)}
      error={error}
      onError={setError}
    />
  );
}

function MetaRow({ ctx, profiles, assignees }: { ctx: DrawerContext; profiles: Profile[]; assignees: string[] }) {
  const client = useTRPCClient();
  const toasts = useToasts();
  const dialogs = useDialogs();
  const task = ctx.detail.task;
  const now = useNow();
  const [priority, setPriority] = useState(String(task.priority));
  const names = [
    ...new Set([...profiles.map((p) => p.name), ...assignees, ...(task.assignee ? [task.assignee] : [])]),
  ].sort();

  const [model, setModel] = useState(task.model_override ?? "");
  const profileModel = profiles.find((p) => p.name === task.assignee)?.model ?? null;
  const saveModel = () => {
    const m = model.trim();
    if (m === (task.model_override ?? "")) return;
    void patch(m === "" ? { clear_model_override: true } : { model_override: m }, "Model override");
  };
  const patch = async (
    change: { assignee?: string | null; priority?: number; model_override?: string; clear_model_override?: boolean },
    what: string,
  ) => {
    try {
      await client.tasks.patch.mutate({ board: ctx.board, id: ctx.id, ...change });
    } catch (err) {
      toasts.push({ kind: "error", title: `${what} not saved`, body: errorMessage(err) });
    } finally {
      ctx.refresh([ctx.id]);
    }
  };
  const savePriority = () => {
    const n = Number(priority);
    if (!Number.isInteger(n)) {
      setPriority(String(task.priority));
      return;
    }
    if (n !== task.priority) void patch({ priority: n }, "Priority");
  };

  return (
    <dl className="grid grid-cols-[110px_1fr] items-center gap-x-3 gap-y-1.5 text-[13px]">
      <dt className="text-muted">Status</dt>
      <dd>
        <span data-testid="drawer-status" className={cx("font-medium", STATUS_PILL[task.status])}>
          {columnLabel(task.status)}
        </span>
      </dd>
      <dt className="text-muted">
        <label htmlFor="drawer-assignee">Assignee</label>
      </dt>
      <dd>
        <Select
          id="drawer-assignee"
          data-testid="drawer-assignee"
          value={task.assignee ?? ""}
          onChange={async (e) => {
            let v: string | null = e.target.value;
            if (v === "__other__") {
              v = await dialogs.prompt({ title: "Assign to", label: "Profile or person", required: true });
              if (v === null) return;
            }
            void patch({ assignee: v === "" ? null : v }, "Assignee");
          }}
        >
          <option value="">(unassigned)</option>
          {names.map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
          <option value="__other__">Other…</option>
        </Select>
      </dd>
      <dt className="text-muted">
        <label htmlFor="drawer-priority">Priority</label>
      </dt>
      <dd>
        <Input
          id="drawer-priority"
          data-testid="drawer-priority"
          type="number"
          className="w-24"
          value={priority}
          onChange={(e) => setPriority(e.target.value)}
          onBlur={savePriority}
          onKeyDown={onEnter(() => savePriority())}
        />
      </dd>
      <dt className="text-muted">
        <label htmlFor="drawer-model">Model</label>
      </dt>
      <dd>
        <Input
          id="drawer-model"
          data-testid="drawer-model"
          className="w-64"
          value={model}
          placeholder={profileModel ? `${profileModel} (the profile's)` : "the profile's default"}
          onChange={(e) => setModel(e.target.value)}
          onBlur={saveModel}
          onKeyDown={onEnter(() => saveModel())}
        />
      </dd>
      {task.tenant && (
        <>
          <dt className="text-muted">Tenant</dt>
          <dd>{task.tenant}</dd>
        </>
      )}
      <dt className="text-muted" title="Host labels: only a host with all of them runs this task">
        Requires
      </dt>
      <dd>
        <RequiresField ctx={ctx} />
      </dd>
      {task.skills.length > 0 && (
        <>
          <dt className="text-muted">Skills</dt>
          <dd className="flex flex-wrap gap-1">
            {task.skills.map((s) => (
              <Chip key={s}>{s}</Chip>
            ))}
          </dd>
        </>
      )}
      <dt className="text-muted">Workspace</dt>
      <dd className="truncate">
        {task.workspace_kind}
        {task.workspace_path && <span className="font-mono text-muted text-xs"> {task.workspace_path}</span>}
      </dd>
      {task.max_runtime_seconds !== null && (
        <>
          <dt className="text-muted">Max runtime</dt>
          <dd>{task.max_runtime_seconds} s</dd>
        </>
      )}
      <dt className="text-muted">Created</dt>
      <dd title={stamp(task.created_at)}>
        {ago(task.created_at, now)}
        {task.created_by && <span className="text-muted"> by {task.created_by}</span>}
      </dd>
      {task.consecutive_failures > 0 && (
        <>
          <dt className="text-muted">Failures</dt>
          <dd className="text-danger">
            {task.consecutive_failures} in a row
            {task.last_failure_error && <span className="text-muted"> · {task.last_failure_error}</span>}
          </dd>
        </>
      )}
    </dl>
  );
}

function Body({ ctx }: { ctx: DrawerContext }) {
  const client = useTRPCClient();
  const toasts = useToasts();
  const [editing, setEditing] = useState(false);
  const [value, setValue] = useState(ctx.detail.task.body ?? "");
  const save = async () => {
    try {
      await client.tasks.patch.mutate({ board: ctx.board, id: ctx.id, body: value });
      setEditing(false);
      ctx.refresh([ctx.id]);
    } catch (err) {
      toasts.push({ kind: "error", title: "Description not saved", body: errorMessage(err) });
    }
  };
  return (
    <section data-testid="body">
      <SectionTitle
        right={
          !editing && (
            <Button
              size="sm"
              variant="ghost"
              data-testid="edit-body"
              onClick={() => {
                setValue(ctx.detail.task.body ?? "");
                setEditing(true);
              }}
            >
              Edit
            </Button>
          )
        }
      >
        Description
      </SectionTitle>
      {editing ? (
        <div className="space-y-1.5">
          <Textarea
            autoFocus
            rows={8}
            aria-label="Description (markdown)"
            data-testid="body-input"
            className="font-mono text-xs"
            value={value}
            onChange={(e) => setValue(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === "Escape") {
                e.preventDefault();
                e.stopPropagation();
                setEditing(false);
              } else if (e.key === "Enter" && (e.metaKey || e.ctrlKey)) {
                e.preventDefault();
                void save();
              }
            }}
          />
          <div className="flex justify-end gap-1.5">
            <Button size="sm" onClick={() => setEditing(false)}>
              Cancel
            </Button>
            <Button size="sm" variant="primary" data-testid="save-body" onClick={() => void save()}>
              Save
            </Button>
          </div>
        </div>
      ) : ctx.detail.task.body ? (
        <Markdown text={ctx.detail.task.body} plain={ctx.plainText} testId="body-text" />
      ) : (
        <p className="text-faint">No description.</p>
      )}
    </section>
  );
}

function StatusActions({
  ctx,
  moveTasks,
  deleteTasks,
  onDeleted,
}: {
  ctx: DrawerContext;
  moveTasks: TaskDrawerProps["moveTasks"];
  deleteTasks: TaskDrawerProps["deleteTasks"];
  onDeleted: () => void;
}) {
  const client = useTRPCClient();
  const toasts = useToasts();
  const dialogs = useDialogs();
  const status = ctx.detail.task.status;
  const move = (target: string) => void moveTasks([ctx.id], target);
  const who = useDisplayName();
  // A gated card in review waits at a stage of its round: only the approval stage is a person's.
  const gates = useCardGates(ctx);
  const stage = status === "review" ? ((gates.data?.verification?.stage ?? null) as GateStage | null) : null;
  const approve = approveState(stage, gates.data?.gates?.spec.reviewer);
  /**
   * A person's "request changes" on a card in review: it goes back to its implementer (ready, or todo
   * while a parent is unfinished) and the reason is kept as a `CHANGES REQUESTED:` comment.
   */
  const requestChanges = async () => {
    const answer = await dialogs.confirm({
      title: `Request changes on ${ctx.id}?`,
      body: "The card goes back to its implementer with your reason as a comment.",
      confirmLabel: "Request changes",
      reason: { label: "What should change" },
    });
    if (!answer.ok) return;
    const reason = answer.reason.trim();
    try {
      await client.tasks.reopenReview.mutate({
        board: ctx.board,
        id: ctx.id,
        ...(reason ? { reason, comment_author: who.name ?? "user" } : who.name ? { comment_author: who.name } : {}),
      });
      toasts.push({ kind: "success", title: `Sent ${ctx.id} back to its implementer` });
    } catch (err) {
      toasts.push({ kind: "error", title: "Request changes failed", body: errorMessage(err) });
    } finally {
      ctx.refresh([ctx.id]);
    }
  };
  /**
   * Cancels the run of a hung task: its claim is released (a local worker is stopped, a remote host
   * stops the worker's process tree at its next heartbeat) and the task goes to Blocked, so the
   * dispatcher does not simply start it again.
   */
  const cancelRun = async () => {
    const answer = await dialogs.confirm({
      title: `Cancel the run of ${ctx.id}?`,
      body: "The worker is stopped (on a remote host, at its next heartbeat) and the task goes to Blocked with your reason, so it is not simply run again.",
      confirmLabel: "Cancel run",
      danger: true,
      reason: { label: "Reason" },
    });
    if (!answer.ok) return;
    const reason = answer.reason.trim();
    try {
      await client.tasks.cancel.mutate({ board: ctx.board, id: ctx.id, ...(reason ? { reason } : {}) });
      toasts.push({
        kind: "success",
        title: `Cancelled ${ctx.id}`,
        body: "The worker is being stopped; the task is blocked until someone unblocks it.",
      });
    } catch (err) {
      toasts.push({ kind: "error", title: "Cancel failed", body: errorMessage(err) });
    } finally {
      ctx.refresh([ctx.id]);
    }
  };
  const targets: { status: string; label: string }[] = [
    { status: "triage", label: "→ Triage" },
    { status: "todo", label: "→ Todo" },
    { status: "ready", label: "→ Ready" },
    { status: "blocked", label: "Block" },
    { status: "done", label: "Complete" },
    { status: "archived", label: "Archive" },
  ];
  return (
    <div className="flex flex-wrap gap-1.5" data-testid="status-actions">
      {(status === "blocked" || status === "scheduled") && (
        <Button
          size="sm"
          variant="primary"
          data-testid="action-unblock"
          onClick={async () => {
            try {
              await client.tasks.unblock.mutate({ board: ctx.board, id: ctx.id });
            } catch (err) {
              toasts.push({ kind: "error", title: "Unblock failed", body: errorMessage(err) });
            } finally {
              ctx.refresh([ctx.id]);
            }
          }}
        >
          Unblock
        </Button>
      )}
      {status === "review" && (
        <>
          {/* A disabled button shows no tooltip in every browser: its wrapper carries it too. */}
          <span title={approve.title} className="inline-flex">
            <Button
              size="sm"
              variant="primary"
              data-testid="action-approve"
              title={approve.title}
              disabled={approve.disabled}
              onClick={async () => {
                try {
                  // The approver is kept as the round's evidence: the name this browser signs with, else "board".
                  const done = await client.tasks.complete.mutate({
                    board: ctx.board,
                    id: ctx.id,
                    approved_by: who.name ?? "board",
                  });
                  const next = "gated" in done ? done.gated : undefined;
                  if (next) toasts.push({ kind: "info", title: `${ctx.id} waits for its next gate (${next})` });
                  else toasts.push({ kind: "success", title: `Approved ${ctx.id}` });
                } catch (err) {
                  toasts.push({ kind: "error", title: "Approve failed", body: errorMessage(err) });
                } finally {
                  ctx.refresh([ctx.id]);
                }
              }}
            >
              Approve
            </Button>
          </span>
          <Button
            size="sm"
            data-testid="action-request-changes"
            title="Send the card back to its implementer with what must change"
            onClick={() => void requestChanges()}
          >
            Request changes
          </Button>
        </>
      )}
      {status === "running" && (
        <Button
          size="sm"
          variant="danger"
          data-testid="action-cancel-run"
          title="Stop the worker and block the task with a reason"
          onClick={() => void cancelRun()}
        >
          Cancel run
        </Button>
      )}
      {targets
        .filter((t) => t.status !== status)
        .map((t) => (
          <Button key={t.status} size="sm" data-testid={`action-${t.status}`} onClick={() => move(t.status)}>
            {t.label}
          </Button>
        ))}
      <Button
        size="sm"
        variant="danger"
        data-testid="action-delete"
        onClick={async () => {
          if (await deleteTasks([ctx.id])) onDeleted();
        }}
      >
        Delete
      </Button>
    </div>
  );
}

/**
 * The task drawer: everything about one task, editable, updating live. The parent keys it by
 * task id, so nothing typed for one task can leak into another.
 */
export function TaskDrawer(props: TaskDrawerProps) {
  const trpc = useTRPC();
  const commentRef = useRef<HTMLTextAreaElement | null>(null);
  const asideRef = useRef<HTMLElement | null>(null);
  useEffect(() => {
    // Keyboard users land in the drawer, and go back where they were when it closes.
    const previous = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    asideRef.current?.focus({ preventScroll: true });
    return () => {
      if (previous?.isConnected) previous.focus({ preventScroll: true });
    };
  }, []);
  const q = useQuery(trpc.tasks.get.queryOptions({ board: props.board, id: props.taskId }));
  const ctx: DrawerContext | null = q.data
    ? {
        board: props.board,
        id: props.taskId,
        detail: q.data,
        refresh: props.refresh,
        plainText: props.plainText,
        openTask: props.onOpenTask,
      }
    : null;
  const task = q.data?.task;

  return (
    <>
      <button
        type="button"
        tabIndex={-1}
        aria-label="Close task"
        className="fixed inset-0 z-30 cursor-default bg-black/15"
        onClick={props.onClose}
      />
      <aside
        ref={asideRef}
        tabIndex={-1}
        role="dialog"
        aria-label={task ? `Task ${task.id}: ${task.title}` : `Task ${props.taskId}`}
        data-testid="drawer"
        data-task-id={props.taskId}
        className="fixed top-0 right-0 bottom-0 z-40 flex w-[min(620px,100vw)] flex-col border-line border-l bg-bg shadow-pop outline-none"
      >
        <header className="flex items-center gap-2 border-line border-b px-4 py-2.5">
          <span className="font-mono text-muted text-xs">{props.taskId}</span>
          <CopyButton text={props.taskId} label="Copy task id" />
          {task?.warnings && (
            <span className="text-danger text-xs" data-testid="drawer-warning">
              ⚠ {task.warnings.count} warning{task.warnings.count > 1 ? "s" : ""}
            </span>
          )}
          <span className="flex-1" />
          {q.isFetching && <Spinner className="text-faint" />}
          <button
            type="button"
            aria-label="Close (Esc)"
            data-testid="drawer-close"
            className="rounded p-1 text-faint hover:bg-hover hover:text-fg"
            onClick={props.onClose}
          >
            <XIcon />
          </button>
        </header>
        <div className="flex-1 overflow-y-auto px-4 py-3">
          {q.error && (
            <p role="alert" className="text-danger">
              {httpStatusOf(q.error) === 404
                ? `Task ${props.taskId} not found (it may have been deleted).`
                : errorMessage(q.error)}
            </p>
          )}
          {!q.data && !q.error && <p className="text-muted">Loading…</p>}
          {ctx && task && (
            <div className="space-y-5">
              <div className="space-y-3">
                <EditableTitle ctx={ctx} />
                <MetaRow ctx={ctx} profiles={props.profiles} assignees={props.assignees} />
                <StatusActions
                  ctx={ctx}
                  moveTasks={props.moveTasks}
                  deleteTasks={props.deleteTasks}
                  onDeleted={props.onClose}
                />
              </div>
              <WhyPanel ctx={ctx} />
              <GatesSection ctx={ctx} />
              <Recovery
                ctx={ctx}
                profiles={props.profiles}
                assignees={props.assignees}
                onFocusComment={() => commentRef.current?.focus()}
              />
              <Body ctx={ctx} />
              <ResultSection ctx={ctx} />
              <Dependencies ctx={ctx} options={props.taskOptions} />
              <RunHistory ctx={ctx} />
              <CostSection ctx={ctx} />
              <WorkerLog ctx={ctx} />
              <Comments ctx={ctx} inputRef={commentRef} />
              <NotificationsSection ctx={ctx} />
              <EventsTimeline ctx={ctx} />
              <details className="rounded-lg border border-line">
                <summary className="cursor-pointer select-none px-3 py-2 font-semibold text-[11px] text-muted uppercase tracking-wide">
                  Worker context
                </summary>
                <pre className="max-h-80 overflow-auto whitespace-pre-wrap break-words px-3 pb-3 font-mono text-[11px]">
                  {ctx.detail.worker_context}
                </pre>
              </details>
            </div>
          )}
        </div>
      </aside>
    </>
  );
}
