"use client";

import { useSearchParams } from "next/navigation";
import { useCallback } from "react";

/**
 * The board, the open task, a secondary view and the board's filters live in the URL
 * (`?board=<slug>&task=<id>&view=hosts&q=…&assignee=…`) so a drawer, a view or a filtered board
 * can be linked and the back button closes it. Native history calls keep Next's search params in sync
 * without a server round trip.
 */
export function useUrlState() {
  const params = useSearchParams();
  const board = params.get("board");
  const task = params.get("task");
  const view = params.get("view");
  // Cards picked elsewhere (the analytics page's drill-downs): the board shows only these until cleared.
  const ids = params.get("ids");

  const update = useCallback((changes: Record<string, string | null>, mode: "push" | "replace" = "push") => {
    const next = new URLSearchParams(window.location.search);
    for (const [k, v] of Object.entries(changes)) {
      if (v === null || v === "") next.delete(k);
      else next.set(k, v);
    }
    const qs = next.toString();
    const url = `${window.location.pathname}${qs ? `?${qs}` : ""}`;
    if (mode === "push") window.history.pushState(null, "", url);
    else window.history.replaceState(null, "", url);
  }, []);

  const openTask = useCallback((id: string) => update({ task: id }), [update]);
  const closeTask = useCallback(() => update({ task: null }), [update]);
  const setBoard = useCallback((slug: string | null) => update({ board: slug, task: null }), [update]);
  const openView = useCallback((name: string) => update({ view: name }), [update]);
  const closeView = useCallback(() => update({ view: null }), [update]);

  const clearIds = useCallback(() => update({ ids: null }), [update]);
  /** The board's filters (`q`, `tenant`, `assignee`, `archived`): replaced, so typing does not fill the history. */
  const setFilterParams = useCallback((changes: Record<string, string | null>) => update(changes, "replace"), [update]);

  return {
    board,
    task,
    view,
    ids,
    params,
    openTask,
    closeTask,
    setBoard,
    openView,
    closeView,
    clearIds,
    setFilterParams,
  };
}
