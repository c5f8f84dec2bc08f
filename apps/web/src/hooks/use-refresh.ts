"use client";

import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useRef } from "react";
import { useTRPC } from "../trpc/react.tsx";

export interface RefreshOptions {
  /**
   * Whether to read the board again (default true). False after a write while the change stream is
   * live: the write comes back as a delta, and only the touched drawers need reading.
   */
  board?: boolean;
}

export type Refresh = (taskIds?: Iterable<string>, opts?: RefreshOptions) => void;

/**
 * Reloads what changed: the board (its first page, which carries the attention list, and any
 * further column pages) and the drawers of the touched tasks. Board reloads are coalesced, so a busy
 * fleet never has more than one in flight and one queued, however many events arrive: a large
 * board is not refetched over itself.
 */
export function useRefresh(): Refresh {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const inFlight = useRef(false);
  const queued = useRef(false);

  const reloadBoard = useCallback(async () => {
    if (inFlight.current) {
      queued.current = true;
      return;
    }
    inFlight.current = true;
    try {
      await Promise.all([
        queryClient.invalidateQueries(trpc.board.pathFilter()),
        queryClient.invalidateQueries(trpc.boards.list.pathFilter()),
        // A claim or a settled run changes a host's running workers.
        queryClient.invalidateQueries(trpc.hosts.list.pathFilter()),
      ]);
    } finally {
      inFlight.current = false;
      if (queued.current) {
        queued.current = false;
        void reloadBoard();
      }
    }
  }, [queryClient, trpc]);

  return useCallback(
    (taskIds?: Iterable<string>, opts: RefreshOptions = {}) => {
      if (opts.board !== false) void reloadBoard();
      for (const id of taskIds ?? []) {
        void queryClient.invalidateQueries(trpc.tasks.get.queryFilter({ id }, { exact: false }));
        void queryClient.invalidateQueries(trpc.tasks.log.queryFilter({ id }, { exact: false }));
      }
    },
    [reloadBoard, queryClient, trpc],
  );
}
