"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { BoardFilters } from "../lib/filter.ts";
import { readDisplayName } from "../lib/display-name.ts";
import { currentView, filtersOfView } from "../lib/saved-views.ts";
import { errorMessage, useTRPC } from "../trpc/react.tsx";
import { useDialogs } from "./dialogs.tsx";
import { useToasts } from "./toasts.tsx";
import { Select } from "./ui.tsx";

const SAVE = "__save";
const DELETE = "__delete";

/**
 * Saved views (issue 19): the board's filters under a name, kept on the server so that a team
 * opens the same view. Picking one applies its filters (and the URL follows); "Save view…" keeps
 * the current filters under a name; the view on screen can be deleted from the same menu.
 */
export function SavedViews(props: {
  board: string;
  filters: BoardFilters;
  archived: boolean;
  onApply: (filters: BoardFilters, archived: boolean) => void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const dialogs = useDialogs();
  const toasts = useToasts();
  const list = useQuery(trpc.views.list.queryOptions({ board: props.board }));
  const views = list.data?.views ?? [];
  const current = currentView(views, props.filters, props.archived);
  const invalidate = () => queryClient.invalidateQueries(trpc.views.list.pathFilter());
  const save = useMutation(trpc.views.save.mutationOptions({ onSuccess: invalidate }));
  const remove = useMutation(trpc.views.delete.mutationOptions({ onSuccess: invalidate }));

  const onPick = async (value: string) => {
    if (value === SAVE) {
      const name = await dialogs.prompt({
        title: "Save this view",
        body: "Saves the search, tenant, assignee and archived filters under a name everyone on this board can open. A name already saved is replaced.",
        label: "Name",
        required: true,
        confirmLabel: "Save view",
      });
      if (name === null) return;
      try {
        await save.mutateAsync({
          board: props.board,
          name,
          search: props.filters.search.trim() || null,
          tenant: props.filters.tenant,
          assignee: props.filters.assignee,
          include_archived: props.archived,
          created_by: typeof window === "undefined" ? null : readDisplayName(window.localStorage),
        });
        toasts.push({ kind: "success", title: `Saved view "${name.trim()}"` });
      } catch (err) {
        toasts.push({ kind: "error", title: "Could not save the view", body: errorMessage(err) });
      }
      return;
    }
    if (value === DELETE && current) {
      const { ok } = await dialogs.confirm({
        title: `Delete the view "${current.name}"?`,
        body: "The board keeps its filters; only the saved name goes, for everyone.",
        confirmLabel: "Delete view",
        danger: true,
      });
      if (!ok) return;
      try {
        await remove.mutateAsync({ board: props.board, name: current.name });
      } catch (err) {
        toasts.push({ kind: "error", title: "Could not delete the view", body: errorMessage(err) });
      }
      return;
    }
    const view = views.find((v) => v.name === value);
    if (view) {
      const { filters, archived } = filtersOfView(view.query);
      props.onApply(filters, archived);
    }
  };

  return (
    <Select
      aria-label="Saved views"
      data-testid="saved-views"
      className="max-w-44"
      value={current?.name ?? ""}
      onChange={(e) => void onPick(e.target.value)}
    >
      <option value="">{views.length === 0 ? "Views" : "Views…"}</option>
      {views.map((v) => (
        <option key={v.name} value={v.name}>
          {v.name}
        </option>
      ))}
      <option value={SAVE}>Save view…</option>
      {current && <option value={DELETE}>Delete "{current.name}"</option>}
    </Select>
  );
}
