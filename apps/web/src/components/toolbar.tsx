"use client";

import { type ReactNode, type RefObject, useRef, useState } from "react";
import { useCloseOnOutsideClick } from "../hooks/use-close-on-outside-click.ts";
import { useNow } from "../hooks/use-now.ts";
import type { BoardFilters } from "../lib/filter.ts";
import { dispatcherSummary } from "../lib/dispatcher.ts";
import { LIVE_LABEL, type LiveStatus } from "../lib/live.ts";
import type { BoardSummary, DispatcherState } from "../lib/types.ts";
import { HostsButton } from "./hosts-view.tsx";
import { BoltIcon, PlusIcon, SearchIcon } from "./icons.tsx";
import { Modal } from "./modal.tsx";
import { Button, cx, Field, Input, Kbd, Select } from "./ui.tsx";

export interface NewBoardFields {
  slug: string;
  name: string;
  description: string;
  icon: string;
  switchTo: boolean;
}

/** A modal form with Cancel and one primary action: Enter submits, and a refusal shows inline. */
function FormDialog(props: {
  title: string;
  testId: string;
  submitLabel: string;
  submitTestId: string;
  /** Resolves to the reason it was refused, or null when done (the dialog then closes). */
  onSubmit: () => Promise<string | null>;
  onClose: () => void;
  children: ReactNode;
}) {
  const [problem, setProblem] = useState<string | null>(null);
  const submit = async () => {
    const err = await props.onSubmit();
    if (err) setProblem(err);
    else props.onClose();
  };
  return (
    <Modal
      title={props.title}
      testId={props.testId}
      onClose={props.onClose}
      footer={
        <>
          <Button onClick={props.onClose}>Cancel</Button>
          <Button variant="primary" data-testid={props.submitTestId} onClick={() => void submit()}>
            {props.submitLabel}
          </Button>
        </>
      }
    >
      <form
        className="space-y-3"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        {props.children}
        {problem && (
          <p role="alert" className="text-danger">
            {problem}
          </p>
        )}
        <button type="submit" hidden />
      </form>
    </Modal>
  );
}

function NewBoardDialog({
  onCreate,
  onClose,
}: {
  onCreate: (f: NewBoardFields) => Promise<string | null>;
  onClose: () => void;
}) {
  const [f, setF] = useState<NewBoardFields>({ slug: "", name: "", description: "", icon: "", switchTo: true });
  return (
    <FormDialog
      title="New board"
      testId="new-board-dialog"
      submitLabel="Create board"
      submitTestId="new-board-submit"
      onSubmit={() => onCreate(f)}
      onClose={onClose}
    >
      <Field label="Slug" hint="Lowercase letters, digits, - and _">
        <Input
          data-autofocus
          data-testid="new-board-slug"
          value={f.slug}
          onChange={(e) => setF({ ...f, slug: e.target.value })}
        />
      </Field>
      <Field label="Name">
        <Input data-testid="new-board-name" value={f.name} onChange={(e) => setF({ ...f, name: e.target.value })} />
      </Field>
      <Field label="Description">
        <Input value={f.description} onChange={(e) => setF({ ...f, description: e.target.value })} />
      </Field>
      <Field label="Icon" hint="An emoji or short text">
        <Input value={f.icon} onChange={(e) => setF({ ...f, icon: e.target.value })} />
      </Field>
      <label className="flex items-center gap-2">
        <input
          type="checkbox"
          className="accent-[var(--accent)]"
          checked={f.switchTo}
          onChange={(e) => setF({ ...f, switchTo: e.target.checked })}
        />
        Switch to it
      </label>
    </FormDialog>
  );
}

export interface BoardSettingsFields {
  name: string;
  description: string;
  icon: string;
  default_workdir: string;
}

function BoardSettingsDialog({
  board,
  onSave,
  onClose,
}: {
  board: BoardSummary;
  onSave: (f: BoardSettingsFields) => Promise<string | null>;
  onClose: () => void;
}) {
  const [f, setF] = useState<BoardSettingsFields>({
    name: board.name,
    description: board.description,
    icon: board.icon,
    default_workdir: board.default_workdir ?? "",
  });
  return (
    <FormDialog
      title={`Board settings: ${board.slug}`}
      testId="board-settings-dialog"
      submitLabel="Save"
      submitTestId="board-settings-save"
      onSubmit={() => onSave(f)}
      onClose={onClose}
    >
      <Field label="Name">
        <Input
          data-autofocus
          data-testid="board-settings-name"
          value={f.name}
          onChange={(e) => setF({ ...f, name: e.target.value })}
        />
      </Field>
      <Field label="Description">
        <Input value={f.description} onChange={(e) => setF({ ...f, description: e.target.value })} />
      </Field>
      <Field label="Icon">
        <Input value={f.icon} onChange={(e) => setF({ ...f, icon: e.target.value })} />
      </Field>
      <Field label="Project directory" hint="Absolute path; new dir/worktree workspaces start here. Empty clears it.">
        <Input
          data-testid="board-settings-workdir"
          value={f.default_workdir}
          onChange={(e) => setF({ ...f, default_workdir: e.target.value })}
          placeholder="/srv/project"
        />
      </Field>
    </FormDialog>
  );
}

function BoardMenu({
  current,
  onNew,
  onSettings,
  onArchive,
}: {
  current: string;
  onNew: () => void;
  onSettings: () => void;
  onArchive: () => void;
}) {
  const [open, setOpen] = useState(false);
  const ref = useRef<HTMLDivElement>(null);
  useCloseOnOutsideClick(ref, open, setOpen);
  const item =
    "block w-full rounded px-2 py-1 text-left hover:bg-hover disabled:opacity-50 disabled:hover:bg-transparent";
  return (
    <div ref={ref} className="relative">
      <Button
        variant="ghost"
        aria-haspopup="menu"
        aria-expanded={open}
        aria-label="Board actions"
        data-testid="board-menu"
        onClick={() => setOpen(!open)}
      >
        ⋯
      </Button>
      {open && (
        <div
          role="menu"
          tabIndex={-1}
          className="absolute top-8 left-0 z-30 w-44 rounded-lg border border-line bg-panel p-1 shadow-pop"
          onKeyDown={(e) => {
            if (e.key === "Escape") {
              e.stopPropagation();
              setOpen(false);
            }
          }}
        >
          <button
            type="button"
            role="menuitem"
            data-testid="board-new"
            className={item}
            onClick={() => {
              setOpen(false);
              onNew();
            }}
          >
            New board…
          </button>
          <button
            type="button"
            role="menuitem"
            data-testid="board-settings"
            className={item}
            onClick={() => {
              setOpen(false);
              onSettings();
            }}
          >
            Board settings…
          </button>
          <button
            type="button"
            role="menuitem"
            data-testid="board-archive"
            className={item}
            disabled={current === "default"}
            onClick={() => {
              setOpen(false);
              onArchive();
            }}
          >
            Archive board…
          </button>
        </div>
      )}
    </div>
  );
}

const LIVE_DOT: Record<LiveStatus, string> = {
  live: "bg-ok",
  connecting: "bg-faint",
  reconnecting: "bg-warn animate-pulse",
  offline: "bg-danger animate-pulse",
};

export function LiveIndicator({ status }: { status: LiveStatus }) {
  return (
    <span
      data-testid="live-status"
      data-state={status}
      className="inline-flex items-center gap-1.5 text-muted text-xs"
      role="status"
      title="Live updates from the board's event stream"
    >
      <span className={cx("size-2 rounded-full", LIVE_DOT[status])} />
      {LIVE_LABEL[status]}
    </span>
  );
}

/** Whether the dispatcher is alive and ticking: last tick, and a warning when it has stopped ticking. */
export function DispatcherHealth({
  state,
  known = true,
}: {
  state: DispatcherState | null | undefined;
  known?: boolean;
}) {
  const now = useNow();
  if (state === undefined && known) return null;
  const h = dispatcherSummary(state ?? null, now, known);
  return (
    <span
      data-testid="dispatcher-health"
      data-state={h.kind}
      title={h.title}
      className={cx("inline-flex items-center gap-1.5 text-xs", h.kind === "stuck" ? "text-warn" : "text-muted")}
    >
      <span
        className={cx("size-2 rounded-full", h.kind === "ok" ? "bg-ok" : h.kind === "stuck" ? "bg-warn" : "bg-faint")}
      />
      {h.label}
    </span>
  );
}

export interface ToolbarProps {
  boards: BoardSummary[];
  current: string;
  onSwitchBoard: (slug: string) => void;
  onCreateBoard: (f: NewBoardFields) => Promise<string | null>;
  onSaveBoard: (f: BoardSettingsFields) => Promise<string | null>;
  onArchiveBoard: () => void;
  filters: BoardFilters;
  onFilters: (f: BoardFilters) => void;
  tenants: string[];
  assignees: string[];
  showArchived: boolean;
  onShowArchived: (v: boolean) => void;
  lanes: boolean;
  onLanes: (v: boolean) => void;
  onNudge: () => void;
  dispatcher: DispatcherState | null | undefined;
  /** False while the server does not answer or the status query fails: the dot goes grey, never stays green. */
  dispatcherKnown: boolean;
  live: LiveStatus;
  onNewTask: () => void;
  /** Opens the Hosts view (remote dispatchers of this board). */
  onHosts: () => void;
  onHelp: () => void;
  searchRef: RefObject<HTMLInputElement | null>;
  /** The notifications bell (board and assignee subscription rules). */
  notifications?: ReactNode;
  /** The saved views menu (issue 19). */
  views?: ReactNode;
}

export function Toolbar(p: ToolbarProps) {
  const [newBoard, setNewBoard] = useState(false);
  const [settings, setSettings] = useState(false);
  const currentBoard = p.boards.find((x) => x.slug === p.current);
  return (
    <header className="flex flex-wrap items-center gap-2 border-line border-b bg-panel px-3 py-2">
      <div className="flex items-center gap-1">
        <span
          className="mr-1 grid size-6 place-items-center rounded-md bg-accent font-bold text-accent-fg text-xs"
          aria-hidden
        >
          K
        </span>
        <Select
          aria-label="Board"
          data-testid="board-switcher"
          className="max-w-48 font-medium"
          value={p.current}
          onChange={(e) => p.onSwitchBoard(e.target.value)}
        >
          {p.boards.length === 0 && <option value={p.current}>{p.current}</option>}
          {p.boards.map((b) => (
            <option key={b.slug} value={b.slug}>
              {b.icon ? `${b.icon} ` : ""}
              {b.name || b.slug} ({b.total})
            </option>
          ))}
        </Select>
        <BoardMenu
          current={p.current}
          onNew={() => setNewBoard(true)}
          onSettings={() => setSettings(true)}
          onArchive={p.onArchiveBoard}
        />
      </div>
      <div className="relative">
        <SearchIcon className="-translate-y-1/2 pointer-events-none absolute top-1/2 left-2 text-faint" />
        <Input
          ref={p.searchRef}
          type="search"
          aria-label="Search tasks"
          data-testid="search"
          placeholder="Search"
          className="w-56 pr-7 pl-7"
          value={p.filters.search}
          onChange={(e) => p.onFilters({ ...p.filters, search: e.target.value })}
          onKeyDown={(e) => {
            if (e.key === "Escape") {
              e.stopPropagation();
              e.currentTarget.blur();
            }
          }}
        />
        <span className="-translate-y-1/2 pointer-events-none absolute top-1/2 right-1.5">
          <Kbd>/</Kbd>
        </span>
      </div>
      <FilterSelect
        label="Tenant"
        all="All tenants"
        testId="filter-tenant"
        options={p.tenants}
        value={p.filters.tenant}
        onChange={(tenant) => p.onFilters({ ...p.filters, tenant })}
      />
      <FilterSelect
        label="Assignee"
        all="All assignees"
        testId="filter-assignee"
        options={p.assignees}
        value={p.filters.assignee}
        onChange={(assignee) => p.onFilters({ ...p.filters, assignee })}
      />
      {p.views}
      <label className="inline-flex items-center gap-1.5 text-xs">
        <input
          type="checkbox"
          className="accent-[var(--accent)]"
          data-testid="toggle-archived"
          checked={p.showArchived}
          onChange={(e) => p.onShowArchived(e.target.checked)}
        />
        Show archived
      </label>
      <label className="inline-flex items-center gap-1.5 text-xs" title="Group the In progress column by assignee">
        <input
          type="checkbox"
          className="accent-[var(--accent)]"
          data-testid="toggle-lanes"
          checked={p.lanes}
          onChange={(e) => p.onLanes(e.target.checked)}
        />
        Lanes by profile
      </label>
      <span className="flex-1" />
      {p.notifications}
      {/* A page of its own (issue 21): flow and cost over a window, linkable with its window. */}
      <a
        href={`/analytics?board=${encodeURIComponent(p.current)}`}
        data-testid="analytics-link"
        title="Throughput, cycle time, blocked time and cost per done card"
        className="inline-flex h-7 items-center gap-1.5 whitespace-nowrap rounded-md px-2.5 font-medium text-[13px] text-muted hover:bg-hover hover:text-fg"
      >
        Analytics
      </a>
      <HostsButton board={p.current} onOpen={p.onHosts} />
      <DispatcherHealth state={p.dispatcher} known={p.dispatcherKnown} />
      <Button
        variant="ghost"
        data-testid="nudge"
        title="Ask the dispatcher to tick now instead of waiting"
        onClick={p.onNudge}
      >
        <BoltIcon /> Nudge
      </Button>
      <LiveIndicator status={p.live} />
      <Button variant="primary" data-testid="new-task" onClick={p.onNewTask} title="New task (c)">
        <PlusIcon /> New task
      </Button>
      <Button variant="ghost" aria-label="Keyboard shortcuts" data-testid="help" onClick={p.onHelp}>
        ?
      </Button>
      {newBoard && <NewBoardDialog onCreate={p.onCreateBoard} onClose={() => setNewBoard(false)} />}
      {settings && currentBoard && (
        <BoardSettingsDialog board={currentBoard} onSave={p.onSaveBoard} onClose={() => setSettings(false)} />
      )}
    </header>
  );
}

/** A filter dropdown: "All …" (null) or one of the options. */
function FilterSelect(p: {
  label: string;
  all: string;
  testId: string;
  options: string[];
  value: string | null | undefined;
  onChange: (v: string | null) => void;
}) {
  return (
    <Select
      aria-label={p.label}
      data-testid={p.testId}
      value={p.value ?? ""}
      onChange={(e) => p.onChange(e.target.value || null)}
    >
      <option value="">{p.all}</option>
      {p.options.map((o) => (
        <option key={o} value={o}>
          {o}
        </option>
      ))}
    </Select>
  );
}
