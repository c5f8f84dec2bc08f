"use client";

import { type InfiniteData, type QueryKey, useQueryClient } from "@tanstack/react-query";
import { useCallback, useRef } from "react";
import { applyBoardDelta, applyDeltaToPage } from "../lib/board-delta.ts";
import type { BoardChange, BoardData, Card } from "../lib/types.ts";
import { useTRPC } from "../trpc/react.tsx";

/** The board switcher's counts are refreshed at most this often while changes stream in. */
const BOARDS_LIST_EVERY_MS = 10_000;

/**
 * Applies one `board.changes` message to what the page holds: the board (`boardKey`) and any
 * further column pages take the delta in place, and the drawers of the touched cards re-read
 * themselves (only an open drawer has a query to refetch). A message without a delta (a burst too
 * large to carry) reads the board again through `reload`.
 */
export function useApplyChange(boardKey: QueryKey, reload: () => void): (change: BoardChange, cursor: number) => void {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const keyRef = useRef(boardKey);
  keyRef.current = boardKey;
  const boardsListAt = useRef(0);

  return useCallback(
    (change: BoardChange, cursor: number) => {
      const { delta } = change;
      if (delta === null) {
        reload();
        return;
      }
      queryClient.setQueryData<BoardData>(keyRef.current, (old) => (old ? applyBoardDelta(old, delta, cursor) : old));
      queryClient.setQueriesData<InfiniteData<{ tasks: Card[] }>>(trpc.board.column.pathFilter(), (old) =>
        old ? { ...old, pages: old.pages.map((p) => applyDeltaToPage(p, delta)) } : old,
      );
      const touched = new Set<string>();
      for (const e of change.events) if (e.task_id) touched.add(e.task_id);
      for (const id of touched) {
        void queryClient.invalidateQueries(trpc.tasks.get.queryFilter({ id }, { exact: false }));
        void queryClient.invalidateQueries(trpc.tasks.log.queryFilter({ id }, { exact: false }));
      }
      // A claim or a settled run changes a host's running workers.
      void queryClient.invalidateQueries(trpc.hosts.list.pathFilter());
      const now = Date.now();
      if (now - boardsListAt.current >= BOARDS_LIST_EVERY_MS) {
        boardsListAt.current = now;
        void queryClient.invalidateQueries(trpc.boards.list.pathFilter());
      }
    },
    [queryClient, trpc, reload],
  );
}
