"use client";

import type { RouterInputs, RouterOutputs } from "@kanban/api";
import type { Refresh } from "./use-refresh.ts";
import { useCallback } from "react";
import { useToasts } from "../components/toasts.tsx";
import { columnLabel } from "../lib/columns.ts";
import { errorMessage, useTRPCClient } from "../trpc/react.tsx";

export type CreateFields = Omit<RouterInputs["tasks"]["create"], "board" | "triage" | "initial_status">;
/** The created task and the server's warning when nothing will dispatch it (null otherwise). */
export type Created = { task: RouterOutputs["tasks"]["create"]["task"]; warning: string | null };

/**
 * Creates a task where the person asked for it: triage and blocked through the create call
 * itself, todo and scheduled by moving it right after (create decides ready vs todo from the
 * parents). A refusal of that second step keeps the task and says why.
 */
export function useCreateTask(board: string | undefined, refresh: Refresh) {
  const client = useTRPCClient();
  const toasts = useToasts();
  return useCallback(
    async (
      fields: CreateFields,
      column: string | null,
      triage = false,
      /** Shows a refusal at the field it is about (returns true), instead of a toast. */
      atField?: (message: string) => boolean,
    ): Promise<Created | null> => {
      try {
        const res = await client.tasks.create.mutate({
          ...fields,
          board,
          triage: triage || column === "triage",
          initial_status: column === "blocked" ? "blocked" : undefined,
        });
        const created: Created = {
          task: res.task,
          warning: "warning" in res && typeof res.warning === "string" ? res.warning : null,
        };
        const id = created.task.id;
        if ((column === "todo" || column === "scheduled") && created.task.status !== column) {
          try {
            await client.tasks.patch.mutate({ board, id, status: column });
          } catch (err) {
            toasts.push({
              kind: "warning",
              title: `Created ${id}, but not in ${columnLabel(column)}`,
              body: errorMessage(err),
            });
          }
        }
        refresh([id]);
        return created;
      } catch (err) {
        if (!atField?.(errorMessage(err)))
          toasts.push({ kind: "error", title: "Task not created", body: errorMessage(err) });
        return null;
      }
    },
    [client, board, refresh, toasts],
  );
}
