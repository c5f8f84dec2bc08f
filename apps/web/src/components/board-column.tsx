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
import { useTRPC } from "../trpc/react.tsx";
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
  pageInput: { board?: string; tenant?: string | null; assignee?: string | null; search?: string | null; include_archived: boolean };
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
  onSelectAll: (ids: string[], checked: boolean) => void;
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

function InlineCreate({ status, onCreate, onClose, onMore }: { status: string; onCreate: (title: string) => Promise<boolean>; onClose: () => void; onMore: (title: string) => void }) {
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
        <button type="button" className="text-accent hover:underline" onMouseDown={(e) => e.preventDefault()} onClick={() => onMore(title)}>
          More options…
        </button>
      </div>
    </div>
  );
}

export const BoardColumn = memo(function BoardColumn(props: ColumnProps) {
  const { name, cards, total, nextCursor, pageInput, filters, lanes, now, focusedId, tabStop, selection, failures, inlineOpen, onOpen, onSelect, onFocus, onSelectAll, onAdd } = props;
  const trpc = useTRPC();
  const { setNodeRef, isOver } = useDroppable({ id: `col:${name}`, data: { status: name } });
  const meta = isStatus(name) ? COLUMN_META[name] : { label: name, hint: "", dot: "bg-zinc-400" };
  const [wantMore, setWantMore] = useState(false);

  // Done and archived come in pages: the board response has the first, these are the rest.
  const more = useInfiniteQuery(
    trpc.board.column.infiniteQueryOptions(
      { ...pageInput, column: name as ColumnName, limit: 200 },
      { enabled: wantMore && nextCursor !== null, initialCursor: nextCursor, getNextPageParam: (last) => last.next_cursor ?? undefined },
    ),
  );
  useEffect(() => {
    // A new first page (filters changed, board reloaded) starts the paging over.
    if (nextCursor === null) setWantMore(false);
  }, [nextCursor]);

  const shown = useMemo(() => {
    if (!wantMore || !more.data) return cards;
    const seen = new Set(cards.map((c) => c.id));
    const extra = more.data.pages.flatMap((p) => p.tasks).filter((t) => !seen.has(t.id) && t.status === name && matchesFilters(t, filters));
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

  const selectedHere = ids.filter((id) => selection.has(id)).length;
  const allRef = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (allRef.current) allRef.current.indeterminate = selectedHere > 0 && selectedHere < ids.length;
  }, [selectedHere, ids.length]);

  const estimate = useCallback((it: ColumnItem<Card>) => (it.kind === "lane" ? LANE_ESTIMATE : it.card.status === "running" ? RUNNING_ESTIMATE : CARD_ESTIMATE), []);
  const selecting = selection.size > 0;
  const render = useCallback(
    (it: ColumnItem<Card>) =>
      it.kind === "lane" ? (
        <div data-testid={`lane-${it.label}`} className="flex items-center gap-1.5 px-1 pt-1 font-medium text-[11px] text-muted">
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
      data-over={isOver || undefined}
      className={cx("flex h-full w-[272px] shrink-0 flex-col rounded-xl border bg-panel-2/60 transition-colors", isOver ? "border-accent bg-accent-soft/50" : "border-transparent")}
    >
      <header className="flex h-10 shrink-0 items-center gap-2 px-2.5 pt-1" title={meta.hint}>
        <input
          ref={allRef}
          type="checkbox"
          aria-label={`Select all in ${meta.label}`}
          data-testid={`select-all-${name}`}
          className="size-3.5 cursor-pointer accent-[var(--accent)]"
          disabled={ids.length === 0}
          checked={ids.length > 0 && selectedHere === ids.length}
          onChange={(e) => onSelectAll(ids, e.target.checked)}
        />
        <span className={cx("size-2 rounded-full", meta.dot)} aria-hidden />
        <h2 className="font-semibold text-[13px]">{meta.label}</h2>
        <span data-testid={`count-${name}`} className="text-faint tabular-nums">
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
