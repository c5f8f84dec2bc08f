"use client";

import { type QueryKey, useQueryClient } from "@tanstack/react-query";
import type { Refresh } from "./use-refresh.ts";
import { useCallback } from "react";
import { useDialogs } from "../components/dialogs.tsx";
import { useToasts } from "../components/toasts.tsx";
import { columnLabel } from "../lib/columns.ts";
import { applyOptimisticMove, chunksOf, deleteGuard, moveGuard, removeCards, reopenGuard } from "../lib/moves.ts";
import type { BoardData, BulkResult } from "../lib/types.ts";
import { errorMessage, useTRPCClient } from "../trpc/react.tsx";

export interface BoardActionsOptions {
  board: string | undefined;
  boardKey: QueryKey;
  showArchived: boolean;
  /** After a write; `{board: true}` when the board must be read again (a failed write was undone). */
  refresh: Refresh;
  /** Per-id failures of the last bulk change (shown on the cards and in the bulk bar). */
  onBulkResult: (failures: BulkResult[]) => void;
  /** The status of a card the board knows (loaded, or fetched for "select all"). */
  statusOf: (id: string) => string | undefined;
}

/**
 * Board changes with the spec's confirmations: optimistic where the outcome is predictable (the
 * card moves at once and goes back, with the server's reason, when the move is refused).
 */
export function useBoardActions(opts: BoardActionsOptions) {
  const client = useTRPCClient();
  const queryClient = useQueryClient();
  const dialogs = useDialogs();
  const toasts = useToasts();
  const { board, boardKey, showArchived, refresh, onBulkResult, statusOf } = opts;

  /** tasks.bulk in calls of at most BULK_MAX_IDS ids (a whole column can be selected). */
  const bulk = useCallback(
    async (
      input: Omit<Parameters<typeof client.tasks.bulk.mutate>[0], "ids" | "board">,
      ids: string[],
    ): Promise<BulkResult[]> => {
      const results: BulkResult[] = [];
      for (const part of chunksOf(ids))
        results.push(...(await client.tasks.bulk.mutate({ ...input, board, ids: part })).results);
      return results;
    },
    [client, board],
  );

  /** Applies `change` to the cached board now; returns how to undo it. */
  const optimistic = useCallback(
    async (change: (b: BoardData) => BoardData) => {
      await queryClient.cancelQueries({ queryKey: boardKey });
      const before = queryClient.getQueryData<BoardData>(boardKey);
      if (before) queryClient.setQueryData<BoardData>(boardKey, change(before));
      return () => {
        if (before) queryClient.setQueryData<BoardData>(boardKey, before);
      };
    },
    [queryClient, boardKey],
  );

  const reportBulk = useCallback(
    (verb: string, results: BulkResult[]) => {
      const failed = results.filter((r) => !r.ok);
      onBulkResult(failed);
      if (failed.length === 0) {
        toasts.push({ kind: "success", title: `${verb}: ${results.length} task${results.length === 1 ? "" : "s"}` });
      } else {
        toasts.push({
          kind: "error",
          title: `${verb}: ${failed.length} of ${results.length} failed`,
          body: failed
            .slice(0, 3)
            .map((f) => `${f.id}: ${f.error ?? "refused"}`)
            .join("\n"),
        });
      }
    },
    [onBulkResult, toasts],
  );

  /** Moves cards to a column (drag-drop, keyboard, bulk bar, drawer): confirms, then applies. */
  const moveTasks = useCallback(
    async (ids: string[], target: string): Promise<boolean> => {
      if (ids.length === 0) return false;
      const reopen = reopenGuard(target, ids.filter((id) => statusOf(id) === "done").length, ids.length);
      if (reopen) {
        const answer = await dialogs.confirm({ ...reopen, danger: true });
        if (!answer.ok) return false;
      }
      const guard = moveGuard(target, ids.length);
      const extra: { summary?: string; result?: string; block_reason?: string } = {};
      if (guard.kind === "summary") {
        const summary = await dialogs.prompt({
          title: guard.title,
          body: guard.body,
          label: "Summary",
          required: true,
          multiline: true,
          confirmLabel: "Mark done",
        });
        if (summary === null) return false;
        extra.summary = summary;
        extra.result = summary;
      } else if (guard.kind === "confirm") {
        const answer = await dialogs.confirm({
          title: guard.title,
          body: guard.body,
          confirmLabel: guard.confirmLabel,
          danger: guard.danger,
          reason: guard.reason,
        });
        if (!answer.ok) return false;
        if (answer.reason.trim()) extra.block_reason = answer.reason.trim();
      }
      const undo = await optimistic((b) =>
        target === "archived" && !showArchived ? removeCards(b, ids) : applyOptimisticMove(b, ids, target),
      );
      // Undone: the board is read again (a delta of a part that succeeded may have come before the undo).
      let undone = false;
      try {
        if (ids.length === 1) {
          const [id] = ids;
          if (id === undefined) return false;
          await client.tasks.patch.mutate({ board, id, status: target, ...extra });
          onBulkResult([]);
        } else {
          const results = await bulk({ status: target, ...extra }, ids);
          const allOk = results.every((r) => r.ok);
          if (!allOk) {
            undo();
            undone = true;
          }
          reportBulk(`Move to ${columnLabel(target)}`, results);
          return allOk;
        }
        return true;
      } catch (err) {
        undo();
        undone = true;
        toasts.push({ kind: "error", title: "Move failed", body: errorMessage(err) });
        return false;
      } finally {
        refresh(ids, undone ? { board: true } : undefined);
      }
    },
    [dialogs, optimistic, showArchived, client, board, onBulkResult, reportBulk, toasts, refresh, statusOf, bulk],
  );

  /** The trash: permanent delete after a confirmation. */
  const deleteTasks = useCallback(
    async (ids: string[]): Promise<boolean> => {
      if (ids.length === 0) return false;
      const g = deleteGuard(ids.length);
      const answer = await dialogs.confirm({ title: g.title, body: g.body, confirmLabel: "Delete", danger: true });
      if (!answer.ok) return false;
      const undo = await optimistic((b) => removeCards(b, ids));
      const results: BulkResult[] = [];
      for (const id of ids) {
        try {
          await client.tasks.delete.mutate({ board, id });
          results.push({ id, ok: true });
        } catch (err) {
          results.push({ id, ok: false, error: errorMessage(err) });
        }
      }
      const undone = results.some((r) => !r.ok);
      if (undone) undo();
      if (ids.length > 1) reportBulk("Delete", results);
      else if (results[0] && !results[0].ok)
        toasts.push({ kind: "error", title: "Delete failed", body: results[0].error });
      refresh(ids, undone ? { board: true } : undefined);
      return results.every((r) => r.ok);
    },
    [dialogs, optimistic, client, board, reportBulk, toasts, refresh],
  );

  /** Bulk changes that are not moves: archive, assignment, priority. */
  const bulkChange = useCallback(
    async (
      ids: string[],
      change: { archive?: boolean; assignee?: string; reclaim_first?: boolean; priority?: number },
      verb: string,
    ): Promise<boolean> => {
      if (ids.length === 0) return false;
      if (change.archive) {
        const g = moveGuard("archived", ids.length);
        if (g.kind === "confirm") {
          const answer = await dialogs.confirm({ title: g.title, body: g.body, confirmLabel: g.confirmLabel });
          if (!answer.ok) return false;
        }
      }
      const undo = change.archive && !showArchived ? await optimistic((b) => removeCards(b, ids)) : () => {};
      let undone = false;
      try {
        const results = await bulk(change, ids);
        const allOk = results.every((r) => r.ok);
        if (!allOk) {
          undo();
          undone = true;
        }
        reportBulk(verb, results);
        return allOk;
      } catch (err) {
        undo();
        undone = true;
        toasts.push({ kind: "error", title: `${verb} failed`, body: errorMessage(err) });
        return false;
      } finally {
        refresh(ids, undone ? { board: true } : undefined);
      }
    },
    [dialogs, showArchived, optimistic, reportBulk, toasts, refresh, bulk],
  );

  return { moveTasks, deleteTasks, bulkChange };
}
