"use client";

import {
  DndContext,
  type DragEndEvent,
  DragOverlay,
  type DragStartEvent,
  PointerSensor,
  pointerWithin,
  useSensor,
  useSensors,
} from "@dnd-kit/core";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { useBoardActions } from "../hooks/use-board-actions.ts";
import { useApplyChange } from "../hooks/use-apply-change.ts";
import { useBoardLive } from "../hooks/use-board-live.ts";
import { useCreateTask } from "../hooks/use-create-task.ts";
import { useDebounced } from "../hooks/use-debounced.ts";
import { useDesktopNotifications } from "../hooks/use-desktop-notifications.ts";
import { learnServerNow, useNow } from "../hooks/use-now.ts";
import { type Refresh, useRefresh } from "../hooks/use-refresh.ts";
import { useSessionValue } from "../hooks/use-session-value.ts";
import { useUrlState } from "../hooks/use-url-state.ts";
import { parseIds } from "../lib/analytics.ts";
import { type AttentionItem, parseDismissal, stripVisible } from "../lib/attention.ts";
import { visibleColumns } from "../lib/columns.ts";
import { indicatorStatus, loadProblem, PROBE_INTERVAL_MS, probeOf } from "../lib/connection.ts";
import { type BoardFilters, matchesFilters, viewFromParams, viewToParams } from "../lib/filter.ts";
import { adjacentStatus, isTypingTarget, navigate, navKeyOf } from "../lib/keyboard.ts";
import type { BulkResult, Card } from "../lib/types.ts";
import { errorMessage, failureStatus, httpStatusOf, useTRPC, useTRPCClient } from "../trpc/react.tsx";
import { AttentionStrip } from "./attention-strip.tsx";
import { BoardColumn } from "./board-column.tsx";
import { BulkBar } from "./bulk-bar.tsx";
import { CreateDialog } from "./create-dialog.tsx";
import { useDialogs } from "./dialogs.tsx";
import { PickedBanner } from "./picked-banner.tsx";
import { ConfigErrorBanner, ConfigWarnings, LoadProblemPanel, OfflineBanner } from "./server-status.tsx";
import { HelpDialog } from "./help-dialog.tsx";
import { HostsView } from "./hosts-view.tsx";
import { IncidentBanner } from "./incident-banner.tsx";
import { isModalOpen } from "./modal.tsx";
import { NotificationBell } from "./notifications.tsx";
import { TaskDrawer } from "./task-drawer.tsx";
import { CardPreview } from "./task-card.tsx";
import { useToasts } from "./toasts.tsx";
import { Toolbar } from "./toolbar.tsx";
import { SavedViews } from "./saved-views.tsx";
import { ScrollHints } from "./scroll-hint.tsx";
import { TrashZone } from "./trash-zone.tsx";
import { Button } from "./ui.tsx";

const BOARD_KEY = "kanban.board";
/** A stable empty attention list while the board loads. */
const NO_ATTENTION: AttentionItem[] = [];

function storedBoard(): string | null {
  try {
    return window.localStorage.getItem(BOARD_KEY);
  } catch {
    return null;
  }
}

function storeBoard(slug: string | null): void {
  try {
    if (slug) window.localStorage.setItem(BOARD_KEY, slug);
    else window.localStorage.removeItem(BOARD_KEY);
  } catch {
    // no storage: the URL still carries the board
  }
}

/** Whether a key event belongs to the board (not to a control that handles keys itself). */
function boardOwnsKey(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return true;
  if (target === document.body) return true;
  if (target.closest('[data-testid="drawer"]')) return false;
  return target.closest('[aria-roledescription="draggable card"]') !== null;
}

export function BoardApp() {
  const trpc = useTRPC();
  const client = useTRPCClient();
  const toasts = useToasts();
  const dialogs = useDialogs();
  const url = useUrlState();
  const now = useNow();
  const refresh = useRefresh();

  // ---- which board, which filters
  const [remembered, setRemembered] = useState<string | null>(null);
  useEffect(() => setRemembered(storedBoard()), []);
  const requested = url.board ?? remembered ?? undefined;
  // Polled: it carries config.json's health (a banner) and doubles as the "is the server there" probe.
  const config = useQuery({
    ...trpc.config.get.queryOptions(),
    refetchInterval: PROBE_INTERVAL_MS,
    refetchIntervalInBackground: true,
    retry: false,
  });
  const probe = probeOf(config, config.error ? failureStatus(config.error) : null);
  const refetchConfig = config.refetch;
  const probeNow = useCallback(() => {
    void refetchConfig();
  }, [refetchConfig]);
  // The URL holds the view: a linked board opens with its filters, and the config's defaults fill
  // in only what the URL does not say.
  const [fromUrl] = useState(() => viewFromParams(url.params));
  const [filters, setFilters] = useState<BoardFilters>(fromUrl.filters);
  const [showArchived, setShowArchived] = useState(fromUrl.archived ?? false);
  const [lanes, setLanes] = useState(true);
  const configApplied = useRef(false);
  useEffect(() => {
    const c = config.data;
    if (!c || configApplied.current) return;
    configApplied.current = true;
    setLanes(c.lane_by_profile);
    if (!fromUrl.named.archived) setShowArchived(c.include_archived_by_default);
    if (c.default_tenant && !fromUrl.named.tenant) setFilters((f) => ({ ...f, tenant: c.default_tenant }));
  }, [config.data, fromUrl]);
  const serverFilters = useDebounced(filters, 250);
  const { setFilterParams } = url;
  useEffect(() => {
    setFilterParams(viewToParams(serverFilters, showArchived));
  }, [serverFilters, showArchived, setFilterParams]);
  const boardInput = {
    board: requested,
    include_archived: showArchived,
    tenant: serverFilters.tenant,
    assignee: serverFilters.assignee,
    search: serverFilters.search.trim() || null,
  };
  const boardKey = trpc.board.get.queryKey(boardInput);
  const boardQuery = useQuery({
    ...trpc.board.get.queryOptions(boardInput),
    placeholderData: keepPreviousData,
    // A first load that failed keeps trying on its own: the page never needs a manual reload.
    refetchInterval: (q) => (q.state.status === "error" ? PROBE_INTERVAL_MS : false),
  });
  const data = boardQuery.data;
  const slug = data?.board ?? requested ?? null;
  useEffect(() => {
    if (data) learnServerNow(data.now);
  }, [data]);
  useEffect(() => {
    // A remembered board that was archived or deleted elsewhere: fall back to the current one.
    if (boardQuery.error && httpStatusOf(boardQuery.error) === 404 && !url.board && remembered) {
      storeBoard(null);
      setRemembered(null);
    }
  }, [boardQuery.error, url.board, remembered]);

  const profilesQ = useQuery(trpc.profiles.list.queryOptions());
  const boardsQ = useQuery(trpc.boards.list.queryOptions());
  const dispatcherQ = useQuery({ ...trpc.dispatcher.status.queryOptions(), refetchInterval: 5000, retry: false });
  // A tenant is refused the dispatcher's status (403): nothing to show. No answer, or a failing one:
  // unknown, so a dispatcher that went down with the server never keeps its green dot.
  const dispatcherFailure = dispatcherQ.error ? failureStatus(dispatcherQ.error) : undefined;
  const dispatcherKnown =
    probe !== "down" && !(dispatcherQ.isError && (dispatcherFailure === null || (dispatcherFailure ?? 0) >= 500));
  const profiles = profilesQ.data?.profiles ?? [];
  const assignees = useMemo(
    () => [...new Set([...(data?.assignees ?? []), ...profiles.map((p) => p.name)])].sort(),
    [data?.assignees, profiles],
  );
  // Cards' titles for the desktop notifications, read when an event arrives (set below, once the cards are known).
  const titleById = useRef<(id: string) => string | null>(() => null);
  const onLiveEvent = useDesktopNotifications(slug, (id) => titleById.current(id), url.openTask);
  // The view the live stream keeps current: the resolved board with the same server-side filters.
  const { include_archived, tenant, assignee, search } = boardInput;
  const liveView = useMemo(
    () => (slug ? { board: slug, include_archived, tenant, assignee, search } : null),
    [slug, include_archived, tenant, assignee, search],
  );
  const applyChange = useApplyChange(boardKey, refresh);
  const stream = useBoardLive(liveView, data?.latest_event_id ?? null, applyChange, refresh, probeNow, onLiveEvent);
  // After this page's own writes: while the stream is live the write comes back as a delta, so only the
  // touched drawers are read; otherwise (or when asked, after an undone write) the board too.
  const liveNow = useRef(false);
  liveNow.current = stream === "live";
  const afterWrite = useCallback<Refresh>(
    (ids, opts) => refresh(ids, { board: opts?.board ?? !liveNow.current }),
    [refresh],
  );
  const live = indicatorStatus(stream, probe);
  // How long the first load has been waiting (so the page can say so instead of spinning).
  const [waitedMs, setWaitedMs] = useState(0);
  useEffect(() => {
    if (data) return;
    const started = Date.now();
    const timer = setInterval(() => setWaitedMs(Date.now() - started), 1000);
    return () => clearInterval(timer);
  }, [data]);
  const problem = data
    ? null
    : loadProblem({
        error: boardQuery.error,
        status: boardQuery.error ? failureStatus(boardQuery.error) : null,
        message: boardQuery.error ? errorMessage(boardQuery.error) : "",
        waitedMs,
        probe,
        configError: config.data?.config_error,
      });

  // ---- what is on screen
  const pickedIds = useMemo(() => parseIds(url.ids), [url.ids]);
  const columns = useMemo(
    () =>
      data
        ? visibleColumns(data.columns, showArchived).map((c) => ({
            ...c,
            cards: c.tasks.filter((t) => matchesFilters(t, filters) && (pickedIds === null || pickedIds.has(t.id))),
          }))
        : [],
    [data, showArchived, filters, pickedIds],
  );
  const cardById = useMemo(() => {
    const m = new Map<string, Card>();
    for (const c of data?.columns ?? []) for (const t of c.tasks) m.set(t.id, t);
    return m;
  }, [data]);
  const taskOptions = useMemo(() => [...cardById.values()].map((c) => ({ id: c.id, title: c.title })), [cardById]);
  titleById.current = (id) => cardById.get(id)?.title ?? null;
  const shown = useRef(new Map<string, string[]>());
  // The status of every card the page has seen in a column (loaded, or fetched by "select all"):
  // a bulk move asks before reopening Done cards, including ones that were never drawn.
  const knownStatus = useRef(new Map<string, string>());
  const onCardsShown = useCallback((status: string, ids: string[]) => {
    shown.current.set(status, ids);
    for (const id of ids) knownStatus.current.set(id, status);
  }, []);
  const grid = useCallback(() => columns.map((c) => shown.current.get(c.name) ?? c.cards.map((t) => t.id)), [columns]);

  // ---- selection, focus, failures
  const [selection, setSelection] = useState<Set<string>>(() => new Set());
  const anchor = useRef<string | null>(null);
  const [focusedId, setFocusedId] = useState<string | null>(null);
  const [failures, setFailures] = useState<BulkResult[]>([]);
  const failureMap = useMemo(() => new Map(failures.map((f) => [f.id, f.error ?? "refused"])), [failures]);
  const clearSelection = useCallback(() => {
    setSelection(new Set());
    setFailures([]);
  }, []);
  const onSelect = useCallback(
    (id: string, mode: "toggle" | "range") => {
      setSelection((prev) => {
        const next = new Set(prev);
        const from = anchor.current;
        if (mode === "range" && from !== null) {
          const col = grid().find((ids) => ids.includes(id) && ids.includes(from));
          if (col) {
            const [a, b] = [col.indexOf(from), col.indexOf(id)].sort((x, y) => x - y);
            for (const x of col.slice(a, (b ?? 0) + 1)) next.add(x);
            return next;
          }
        }
        if (next.has(id)) next.delete(id);
        else next.add(id);
        anchor.current = id;
        return next;
      });
    },
    [grid],
  );
  const onSelectAll = useCallback((ids: string[], checked: boolean, status: string) => {
    for (const id of ids) knownStatus.current.set(id, status);
    setSelection((prev) => {
      const next = new Set(prev);
      for (const id of ids) {
        if (checked) next.add(id);
        else next.delete(id);
      }
      return next;
    });
  }, []);

  // ---- actions
  const onBulkResult = useCallback((failed: BulkResult[]) => {
    setFailures(failed);
    // What failed stays selected (to retry or inspect); what succeeded is done with.
    if (failed.length > 0) setSelection(new Set(failed.map((f) => f.id)));
  }, []);
  const statusOf = useCallback((id: string) => cardById.get(id)?.status ?? knownStatus.current.get(id), [cardById]);
  const actions = useBoardActions({
    board: slug ?? undefined,
    boardKey,
    showArchived,
    refresh: afterWrite,
    onBulkResult,
    statusOf,
  });
  const createTask = useCreateTask(slug ?? undefined, afterWrite);
  const [creating, setCreating] = useState<{ column: string | null; title?: string } | null>(null);
  const [inlineColumn, setInlineColumn] = useState<string | null>(null);
  const [help, setHelp] = useState(false);
  const searchRef = useRef<HTMLInputElement | null>(null);
  const boardRef = useRef<HTMLElement | null>(null);

  const onInlineCreate = useCallback(
    async (status: string, title: string) => {
      const created = await createTask({ title, parents: [], priority: 0 }, status);
      if (created?.warning)
        toasts.push({ kind: "warning", title: `Created ${created.task.id}`, body: created.warning });
      return created !== null;
    },
    [createTask, toasts],
  );
  const onMoreOptions = useCallback((status: string, title: string) => {
    setInlineColumn(null);
    setCreating({ column: status, title });
  }, []);
  const onAdd = useCallback((status: string) => setInlineColumn(status), []);
  const onInlineClose = useCallback(() => setInlineColumn(null), []);
  const openTask = url.openTask;
  const onOpen = useCallback(
    (id: string) => {
      setFocusedId(id);
      openTask(id);
    },
    [openTask],
  );

  const moveByKeyboard = useCallback(
    (id: string, dir: -1 | 1) => {
      const card = cardById.get(id);
      if (!card) return;
      const names = columns.map((c) => c.name);
      let target = adjacentStatus(names, card.status, dir);
      // Only a claim starts work: the keyboard hops over In progress as a drop there would be refused.
      if (target === "running") target = adjacentStatus(names, "running", dir);
      if (!target) return;
      const ids = selection.has(id) ? [...selection] : [id];
      void actions.moveTasks(ids, target);
    },
    [cardById, columns, selection, actions],
  );

  // ---- keyboard
  const keyState = useRef({ focusedId, taskId: url.task, selection, inlineColumn, grid, moveByKeyboard, onOpen });
  keyState.current = { focusedId, taskId: url.task, selection, inlineColumn, grid, moveByKeyboard, onOpen };
  const closeTask = url.closeTask;
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || isModalOpen() || e.metaKey || e.ctrlKey || e.altKey) return;
      const s = keyState.current;
      if (e.key === "Escape") {
        if (isTypingTarget(e.target)) return;
        if (s.taskId) closeTask();
        else if (s.selection.size > 0) clearSelection();
        else if (s.inlineColumn) setInlineColumn(null);
        return;
      }
      if (isTypingTarget(e.target)) return;
      if (e.key === "c" && !e.shiftKey) {
        e.preventDefault();
        setCreating({ column: null });
        return;
      }
      if (e.key === "/") {
        e.preventDefault();
        searchRef.current?.focus();
        return;
      }
      if (e.key === "?") {
        e.preventDefault();
        setHelp(true);
        return;
      }
      if (!boardOwnsKey(e.target)) return;
      if (e.shiftKey && (e.key === "ArrowLeft" || e.key === "ArrowRight")) {
        if (s.focusedId) {
          e.preventDefault();
          s.moveByKeyboard(s.focusedId, e.key === "ArrowLeft" ? -1 : 1);
        }
        return;
      }
      if (e.key === "Enter" && s.focusedId) {
        e.preventDefault();
        s.onOpen(s.focusedId);
        return;
      }
      if (e.key === "x" && s.focusedId) {
        e.preventDefault();
        const id = s.focusedId;
        setSelection((prev) => {
          const next = new Set(prev);
          if (next.has(id)) next.delete(id);
          else next.add(id);
          return next;
        });
        return;
      }
      const nav = navKeyOf(e.key);
      if (nav && !e.shiftKey) {
        e.preventDefault();
        setFocusedId(navigate(s.grid(), s.focusedId, nav));
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [closeTask, clearSelection]);

  // ---- drag and drop
  const sensors = useSensors(useSensor(PointerSensor, { activationConstraint: { distance: 6 } }));
  const [dragging, setDragging] = useState<{ id: string; count: number } | null>(null);
  const onDragStart = useCallback(
    (e: DragStartEvent) => {
      const id = String(e.active.id);
      setDragging({ id, count: selection.has(id) ? selection.size : 1 });
    },
    [selection],
  );
  const onDragEnd = useCallback(
    (e: DragEndEvent) => {
      setDragging(null);
      if (!e.over) return;
      const id = String(e.active.id);
      const ids = selection.has(id) ? [...selection] : [id];
      if (e.over.id === "trash") {
        void actions.deleteTasks(ids).then((ok) => {
          if (ok && ids.length > 1) clearSelection();
        });
        return;
      }
      const target = String(e.over.id).replace(/^col:/, "");
      const moving = ids.filter((x) => cardById.get(x)?.status !== target);
      void actions.moveTasks(moving, target);
    },
    [selection, actions, cardById, clearSelection],
  );
  const draggedCard = dragging ? cardById.get(dragging.id) : undefined;

  // ---- attention strip
  // From board.get itself: the same run of the diagnostics engine that badged the cards (a refresh
  // runs it once, not once for the board and again for a diagnostics.list call), as the worst 100
  // rows and the number flagged; the strip asks diagnostics.list for the rest only when opened.
  const attention = data?.attention ?? NO_ATTENTION;
  const attentionTotal = data?.attention_total ?? 0;
  const [dismissed, setDismissed] = useSessionValue(`kanban.attention.dismissed.${slug ?? ""}`, parseDismissal);
  const showStrip = stripVisible(
    attention.map((a) => a.task_id),
    attentionTotal,
    dismissed,
  );

  // ---- boards
  const switchBoard = useCallback(
    (s: string) => {
      storeBoard(s);
      setRemembered(s);
      url.setBoard(s);
      clearSelection();
      setFocusedId(null);
    },
    [url, clearSelection],
  );
  const boards = boardsQ.data?.boards ?? [];
  const currentBoard = boards.find((b) => b.slug === slug);

  const pageInput = useMemo(
    () => ({
      board: slug ?? undefined,
      include_archived: showArchived,
      tenant: boardInput.tenant,
      assignee: boardInput.assignee,
      search: boardInput.search,
    }),
    [slug, showArchived, boardInput.tenant, boardInput.assignee, boardInput.search],
  );
  const firstCard = columns.find((c) => c.cards.length > 0)?.cards[0]?.id ?? null;

  return (
    <div className="flex h-screen flex-col">
      <Toolbar
        boards={boards}
        current={slug ?? "default"}
        onSwitchBoard={switchBoard}
        onCreateBoard={async (f) => {
          try {
            await client.boards.create.mutate({
              slug: f.slug,
              name: f.name || undefined,
              description: f.description || undefined,
              icon: f.icon || undefined,
            });
            refresh();
            if (f.switchTo) switchBoard(f.slug.trim().toLowerCase());
            return null;
          } catch (err) {
            return errorMessage(err);
          }
        }}
        onSaveBoard={async (f) => {
          if (!slug) return "no board";
          try {
            await client.boards.update.mutate({
              slug,
              name: f.name,
              description: f.description,
              icon: f.icon,
              default_workdir: f.default_workdir.trim(),
            });
            refresh();
            return null;
          } catch (err) {
            return errorMessage(err);
          }
        }}
        onArchiveBoard={async () => {
          if (!slug || slug === "default") return;
          const ok = await dialogs.confirm({
            title: `Archive board '${slug}'?`,
            body: "Its tasks are kept on disk under the archived boards; the board leaves the switcher.",
            confirmLabel: "Archive board",
          });
          if (!ok.ok) return;
          try {
            await client.boards.remove.mutate({ slug });
            switchBoard("default");
            refresh();
          } catch (err) {
            toasts.push({ kind: "error", title: "Archive failed", body: errorMessage(err) });
          }
        }}
        filters={filters}
        onFilters={setFilters}
        views={
          slug ? (
            <SavedViews
              board={slug}
              filters={filters}
              archived={showArchived}
              onApply={(f, archived) => {
                setFilters(f);
                setShowArchived(archived);
              }}
            />
          ) : null
        }
        tenants={data?.tenants ?? []}
        assignees={assignees}
        showArchived={showArchived}
        onShowArchived={setShowArchived}
        lanes={lanes}
        onLanes={setLanes}
        onNudge={async () => {
          try {
            const r = await client.dispatcher.nudge.mutate();
            toasts.push(
              r.nudged
                ? { kind: "success", title: "Dispatcher nudged", body: "It ticks now instead of at its next interval." }
                : {
                    kind: "warning",
                    title: "No dispatcher is running",
                    body: "Nothing picks up ready tasks until one starts.",
                  },
            );
          } catch (err) {
            toasts.push({ kind: "error", title: "Nudge failed", body: errorMessage(err) });
          }
        }}
        dispatcher={dispatcherQ.isError ? undefined : dispatcherQ.data}
        dispatcherKnown={dispatcherKnown}
        live={live}
        onNewTask={() => setCreating({ column: null })}
        onHosts={() => url.openView("hosts")}
        onHelp={() => setHelp(true)}
        searchRef={searchRef}
        notifications={<NotificationBell board={slug ?? undefined} assignees={assignees} />}
      />
      {config.data?.config_error && <ConfigErrorBanner error={config.data.config_error} />}
      {config.data && <ConfigWarnings warnings={config.data.config_warnings} />}
      {data && probe === "down" && <OfflineBanner />}
      {pickedIds && (
        <PickedBanner
          picked={pickedIds.size}
          shown={columns.reduce((n, c) => n + c.cards.length, 0)}
          onClear={url.clearIds}
        />
      )}
      <IncidentBanner board={slug} />
      {showStrip && (
        <AttentionStrip
          key={slug ?? ""}
          board={slug}
          rows={attention}
          total={attentionTotal}
          now={now}
          onOpen={onOpen}
          onDismiss={(seen) => setDismissed({ ids: seen, total: attentionTotal })}
        />
      )}
      {problem && (
        <LoadProblemPanel
          problem={problem}
          onRetry={() => {
            probeNow();
            void boardQuery.refetch();
          }}
        />
      )}
      {!problem && boardQuery.error && !data && (
        <div role="alert" className="m-6 rounded-lg border border-danger/40 bg-danger-soft p-4 text-danger">
          <div className="font-medium">The board could not be loaded</div>
          <div className="mt-1">{errorMessage(boardQuery.error)}</div>
          <Button className="mt-3" onClick={() => void boardQuery.refetch()}>
            Retry
          </Button>
        </div>
      )}
      {!data && !boardQuery.error && !problem && <div className="p-6 text-muted">Loading board…</div>}
      {data && (
        <DndContext
          sensors={sensors}
          collisionDetection={pointerWithin}
          onDragStart={onDragStart}
          onDragEnd={onDragEnd}
          onDragCancel={() => setDragging(null)}
        >
          <div className="relative flex min-h-0 flex-1">
            <main
              ref={boardRef}
              data-testid="board"
              data-board={data.board}
              className="flex min-h-0 min-w-0 flex-1 gap-2.5 overflow-x-auto p-3"
              // The bulk bar floats over the bottom of the columns: keep their last cards and
              // "Show more" reachable above it.
              style={selection.size > 0 ? { paddingBottom: "calc(var(--bulk-offset, 0px) + 0.75rem)" } : undefined}
            >
              {columns.map((c) => (
                <BoardColumn
                  key={c.name}
                  name={c.name}
                  cards={c.cards}
                  total={c.total}
                  nextCursor={c.next_cursor}
                  pageInput={pageInput}
                  filters={filters}
                  lanes={lanes}
                  now={data.now}
                  focusedId={focusedId}
                  tabStop={focusedId ?? firstCard}
                  selection={selection}
                  failures={failureMap}
                  inlineOpen={inlineColumn === c.name}
                  onOpen={onOpen}
                  onSelect={onSelect}
                  onFocus={setFocusedId}
                  onSelectAll={onSelectAll}
                  onAdd={onAdd}
                  onInlineCreate={onInlineCreate}
                  onInlineClose={onInlineClose}
                  onMoreOptions={onMoreOptions}
                  onCardsShown={onCardsShown}
                />
              ))}
            </main>
            <ScrollHints scroller={boardRef} deps={columns.map((c) => `${c.name}:${c.total}`).join()} />
          </div>
          {dragging && <TrashZone count={dragging.count} />}
          <DragOverlay dropAnimation={null}>
            {draggedCard && <CardPreview card={draggedCard} now={data.now} count={dragging?.count ?? 1} />}
          </DragOverlay>
        </DndContext>
      )}
      {selection.size > 0 && !dragging && (
        <BulkBar
          ids={[...selection]}
          assignees={assignees}
          failures={failures}
          onMove={async (target) => {
            if (await actions.moveTasks([...selection], target)) setSelection(new Set());
          }}
          onArchive={async () => {
            if (await actions.bulkChange([...selection], { archive: true }, "Archive")) setSelection(new Set());
          }}
          onAssign={(assignee, reclaimFirst) =>
            void actions.bulkChange(
              [...selection],
              { assignee, reclaim_first: reclaimFirst },
              assignee ? `Assign to ${assignee}` : "Unassign",
            )
          }
          onPriority={(priority) => void actions.bulkChange([...selection], { priority }, "Set priority")}
          onDelete={async () => {
            if (await actions.deleteTasks([...selection])) clearSelection();
          }}
          onClear={clearSelection}
        />
      )}
      {url.task && (
        <TaskDrawer
          key={url.task}
          board={slug ?? undefined}
          taskId={url.task}
          profiles={profiles}
          assignees={assignees}
          taskOptions={taskOptions}
          plainText={config.data?.render_markdown === false}
          onClose={closeTask}
          onOpenTask={onOpen}
          moveTasks={actions.moveTasks}
          deleteTasks={actions.deleteTasks}
          refresh={afterWrite}
        />
      )}
      {creating && (
        <CreateDialog
          column={creating.column}
          initialTitle={creating.title}
          profiles={profiles}
          knownProfiles={config.data?.known_profiles ?? undefined}
          assignees={assignees}
          tenants={data?.tenants ?? []}
          taskOptions={taskOptions}
          defaultTenant={filters.tenant}
          defaultWorkdir={currentBoard?.default_workdir ?? null}
          create={createTask}
          onClose={() => setCreating(null)}
          onOpenTask={(id) => {
            setCreating(null);
            onOpen(id);
          }}
        />
      )}
      {help && <HelpDialog onClose={() => setHelp(false)} />}
      {url.view === "hosts" && <HostsView board={slug} onClose={url.closeView} />}
    </div>
  );
}
