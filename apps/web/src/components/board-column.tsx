"use client";

import { useDroppable } from "@dnd-kit/core";
import { useInfiniteQuery } from "@tanstack/react-query";
import { memo, useCallback, useEffect, useMemo, useRef, useState } from "react";
import { canCreateIn, COLUMN_META, columnLabel, isStatus } from "../lib/columns.ts";
import { type BoardFilters, matchesFilters } from "../lib/filter.ts";
import { type ColumnItem, columnItems } from "../lib/lanes.ts";
import type { Card } from "../lib/types.ts";
import type { RouterInputs } from "@kanban/api";

type ColumnName = RouterInputs["board"]["column"]["column"];
import { errorMessage, useTRPC, useTRPCClient } from "../trpc/react.tsx";
import { PlusIcon } from "./icons.tsx";
import { TaskCard } from "./task-card.tsx";
import { cx, Input } from "./ui.tsx";
import { VirtualList } from "./virtual-list.tsx";

export interface ColumnProps {
  name: string;
  /** The cards of the board response (first page for done/archived), already filtered. */
  cards: Card[];
  total: number;
  nextCursor: string | null;
  /** Input of further pages (board, filters): same as the board query's. */
  pageInput: {
    board?: string;
    tenant?: string | null;
    assignee?: string | null;
    search?: string | null;
    include_archived: boolean;
  };
  filters: BoardFilters;
  lanes: boolean;
  now: number;
  focusedId: string | null;
  /** The one card reachable with Tab (roving tab stop). */
  tabStop: string | null;
  selection: ReadonlySet<string>;
  failures: ReadonlyMap<string, string>;
  inlineOpen: boolean;
  onOpen: (id: string) => void;
  onSelect: (id: string, mode: "toggle" | "range") => void;
  onFocus: (id: string) => void;
  /** Selects (or clears) these cards of this column; `status` is the column's. */
  onSelectAll: (ids: string[], checked: boolean, status: string) => void;
  onAdd: (status: string) => void;
  onInlineCreate: (status: string, title: string) => Promise<boolean>;
  onInlineClose: () => void;
  onMoreOptions: (status: string, title: string) => void;
  /** Reports the cards the column shows, in order (keyboard navigation and selection use them). */
  onCardsShown: (status: string, ids: string[]) => void;
}

const CARD_ESTIMATE = 104;
const RUNNING_ESTIMATE = 132;
const LANE_ESTIMATE = 30;

function InlineCreate({
  status,
  onCreate,
  onClose,
  onMore,
}: {
  status: string;
  onCreate: (title: string) => Promise<boolean>;
  onClose: () => void;
  onMore: (title: string) => void;
}) {
  const [title, setTitle] = useState("");
  const [busy, setBusy] = useState(false);
  return (
    <div className="mb-1.5 rounded-lg border border-accent/50 bg-panel p-2 shadow-card">
      <Input
        autoFocus
        aria-label={`New task in ${columnLabel(status)}`}
        data-testid={`inline-create-${status}`}
        placeholder="Task title"
        value={title}
        disabled={busy}
        onChange={(e) => setTitle(e.target.value)}
        onKeyDown={async (e) => {
          if (e.key === "Escape") {
            e.preventDefault();
            e.stopPropagation();
            onClose();
          } else if (e.key === "Enter" && title.trim()) {
            e.preventDefault();
            setBusy(true);
            const ok = await onCreate(title.trim());
            setBusy(false);
            if (ok) setTitle("");
          }
        }}
        onBlur={() => {
          if (!title.trim() && !busy) onClose();
        }}
      />
      <div className="mt-1 flex items-center justify-between text-[11px] text-faint">
        <span>Enter to create · Esc to cancel</span>
        <button
          type="button"
          className="text-accent hover:underline"
          onMouseDown={(e) => e.preventDefault()}
          onClick={() => onMore(title)}
        >
          More options…
        </button>
      </div>
    </div>
  );
}

export const BoardColumn = memo(function BoardColumn(props: ColumnProps) {
  const {
    name,
    cards,
    total,
    nextCursor,
    pageInput,
    filters,
    lanes,
    now,
    focusedId,
    tabStop,
    selection,
    failures,
    inlineOpen,
    onOpen,
    onSelect,
    onFocus,
    onSelectAll,
    onAdd,
  } = props;
  const trpc = useTRPC();
  const client = useTRPCClient();
  const { setNodeRef, isOver } = useDroppable({ id: `col:${name}`, data: { status: name } });
  const meta = isStatus(name) ? COLUMN_META[name] : { label: name, hint: "", dot: "bg-zinc-400" };
  const [wantMore, setWantMore] = useState(false);

  // Done and archived come in pages: the board response has the first, these are the rest.
  const more = useInfiniteQuery(
    trpc.board.column.infiniteQueryOptions(
      { ...pageInput, column: name as ColumnName, limit: 200 },
      {
        enabled: wantMore && nextCursor !== null,
        initialCursor: nextCursor,
        getNextPageParam: (last) => last.next_cursor ?? undefined,
      },
    ),
  );
  useEffect(() => {
    // A new first page (filters changed, board reloaded) starts the paging over.
    if (nextCursor === null) setWantMore(false);
  }, [nextCursor]);

  const shown = useMemo(() => {
    if (!wantMore || !more.data) return cards;
    const seen = new Set(cards.map((c) => c.id));
    const extra = more.data.pages
      .flatMap((p) => p.tasks)
      .filter((t) => !seen.has(t.id) && t.status === name && matchesFilters(t, filters));
    return [...cards, ...extra];
  }, [cards, wantMore, more.data, name, filters]);
  const lastPage = more.data?.pages[more.data.pages.length - 1];
  const hasMore = wantMore ? (lastPage ? lastPage.next_cursor !== null : nextCursor !== null) : nextCursor !== null;

  const items = useMemo(() => columnItems(shown, lanes && name === "running"), [shown, lanes, name]);
  const ids = useMemo(() => shown.map((c) => c.id), [shown]);
  const reportShown = props.onCardsShown;
  useEffect(() => {
    reportShown(name, ids);
  }, [reportShown, name, ids]);

  // "Select all" is honest about a paged column: it is fully checked only when every card of the
  // column is selected, not just the loaded ones; the rest can be fetched (ids only) on request.
  const [everyId, setEveryId] = useState<string[] | null>(null);
  const [fetchingAll, setFetchingAll] = useState<string | null>(null);
  const pageKey = JSON.stringify(pageInput);
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new filter or a changed total makes the fetched list stale
  useEffect(() => setEveryId(null), [pageKey, total]);
  const columnIds = useMemo(() => (everyId ? [...new Set([...ids, ...everyId])] : ids), [ids, everyId]);
  const selectedHere = useMemo(() => columnIds.filter((id) => selection.has(id)).length, [columnIds, selection]);
  const everything = hasMore ? Math.max(total, columnIds.length) : columnIds.length;
  const allSelected = everything > 0 && selectedHere >= everything;
  const allRef = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (allRef.current) allRef.current.indeterminate = selectedHere > 0 && !allSelected;
  }, [selectedHere, allSelected]);
  const selectEvery = useCallback(async () => {
    setFetchingAll("Loading…");
    try {
      const out = [...ids];
      let cursor = nextCursor;
      while (cursor !== null) {
        const page = await client.board.column.query({ ...pageInput, column: name as ColumnName, cursor, limit: 500 });
        for (const t of page.tasks) if (t.status === name && matchesFilters(t, filters)) out.push(t.id);
        cursor = page.next_cursor;
      }
      setEveryId(out);
      onSelectAll(out, true, name);
      setFetchingAll(null);
    } catch (err) {
      setFetchingAll(`Could not load them all: ${errorMessage(err)}`);
    }
  }, [ids, nextCursor, client, pageInput, name, filters, onSelectAll]);

  const estimate = useCallback(
    (it: ColumnItem<Card>) =>
      it.kind === "lane" ? LANE_ESTIMATE : it.card.status === "running" ? RUNNING_ESTIMATE : CARD_ESTIMATE,
    [],
  );
  const selecting = selection.size > 0;
  const render = useCallback(
    (it: ColumnItem<Card>) =>
      it.kind === "lane" ? (
        <div
          data-testid={`lane-${it.label}`}
          className="flex items-center gap-1.5 px-1 pt-1 font-medium text-[11px] text-muted"
        >
          <span className="truncate">{it.label}</span>
          <span className="text-faint">{it.count}</span>
        </div>
      ) : (
        <TaskCard
          card={it.card}
          now={now}
          focused={focusedId === it.card.id}
          tabbable={tabStop === it.card.id}
          selected={selection.has(it.card.id)}
          selecting={selecting}
          failure={failures.get(it.card.id) ?? null}
          onOpen={onOpen}
          onSelect={onSelect}
          onFocus={onFocus}
        />
      ),
    [now, focusedId, tabStop, selection, selecting, failures, onOpen, onSelect, onFocus],
  );

  // A fully loaded column counts what it shows (client-side filters apply at once); a paged one
  // shows the server's total.
  const count = hasMore ? total : shown.length;
  const loadMore = useCallback(() => {
    if (!wantMore) setWantMore(true);
    else if (!more.isFetching) void more.fetchNextPage();
  }, [wantMore, more]);
  return (
    <section
      ref={setNodeRef}
      aria-label={`${meta.label} column`}
      data-testid={`column-${name}`}
      data-column={name}
      data-over={isOver || undefined}
      // Columns share the width (five or six fit side by side at 1280 px); below their minimum
      // the board scrolls sideways and says which columns are off screen.
      className={cx(
        "flex h-full min-w-[196px] max-w-[320px] flex-1 basis-0 flex-col rounded-xl border bg-panel-2/60 transition-colors",
        isOver ? "border-accent bg-accent-soft/50" : "border-transparent",
      )}
    >
      <header className="flex h-10 shrink-0 items-center gap-2 px-2.5 pt-1" title={meta.hint}>
        <input
          ref={allRef}
          type="checkbox"
          aria-label={`Select all in ${meta.label}`}
          data-testid={`select-all-${name}`}
          className="size-3.5 cursor-pointer accent-[var(--accent)]"
          disabled={ids.length === 0}
          checked={allSelected}
          onChange={() => {
            // Checked or partly checked: clear the column. Unchecked: select what is loaded, and
            // offer the rest below.
            if (selectedHere > 0) onSelectAll(columnIds, false, name);
            else onSelectAll(ids, true, name);
          }}
        />
        <span className={cx("size-2 rounded-full", meta.dot)} aria-hidden />
        <h2 className="font-semibold text-[13px]">{meta.label}</h2>
        <span data-testid={`count-${name}`} data-column-count className="text-faint tabular-nums">
          {count}
        </span>
        <span className="flex-1" />
        {canCreateIn(name) && (
          <button
            type="button"
            aria-label={`Add a task to ${meta.label}`}
            data-testid={`add-${name}`}
            className="rounded p-1 text-faint hover:bg-hover hover:text-fg"
            onClick={() => onAdd(name)}
          >
            <PlusIcon />
          </button>
        )}
      </header>
      {hasMore && selectedHere > 0 && (
        <div
          data-testid={`select-all-note-${name}`}
          className="mx-2 mb-1 rounded-md bg-accent-soft/60 px-2 py-1 text-xs"
        >
          {allSelected ? (
            <span>All {everything.toLocaleString("en-US")} selected</span>
          ) : (
            <>
              <span data-testid={`select-all-count-${name}`}>
                {selectedHere.toLocaleString("en-US")} of {everything.toLocaleString("en-US")} selected
              </span>
              {" · "}
              <button
                type="button"
                data-testid={`select-every-${name}`}
                className="text-accent hover:underline disabled:opacity-60"
                disabled={fetchingAll === "Loading…"}
                onClick={() => void selectEvery()}
              >
                {fetchingAll ?? `Select all ${everything.toLocaleString("en-US")}`}
              </button>
            </>
          )}
        </div>
      )}
      <VirtualList
        items={items}
        estimate={estimate}
        render={render}
        revealKey={focusedId}
        onNearEnd={hasMore && !more.isFetching ? loadMore : undefined}
        testId={`column-body-${name}`}
        className="flex-1 px-2 pb-2"
        header={
          inlineOpen ? (
            <InlineCreate
              status={name}
              onCreate={(title) => props.onInlineCreate(name, title)}
              onClose={props.onInlineClose}
              onMore={(title) => props.onMoreOptions(name, title)}
            />
          ) : shown.length === 0 ? (
            <p className="px-1 py-2 text-faint text-xs">{meta.hint}</p>
          ) : undefined
        }
      />
      {hasMore && (
        <button
          type="button"
          data-testid={`load-more-${name}`}
          className="mx-2 mb-2 rounded-md py-1 text-muted text-xs hover:bg-hover hover:text-fg"
          onClick={loadMore}
        >
          {more.isFetching ? "Loading…" : `Show more (${Math.max(0, total - shown.length)} more)`}
        </button>
      )}
    </section>
  );
});
