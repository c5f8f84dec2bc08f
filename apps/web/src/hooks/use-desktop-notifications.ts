"use client";

import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useRef } from "react";
import { DESKTOP_PLATFORM, desktopMessage, desktopTaskIds, type LiveEventLike } from "../lib/desktop-notify.ts";
import { useTRPC } from "../trpc/react.tsx";

/** How stale the list of watched cards may get when no rule adds desktop subscriptions. */
const REREAD_MS = 30_000;

/**
 * Turns the board's live events into browser notifications for the cards this browser watches (a
 * `desktop` subscription). It does not open a stream of its own: the board's live hook hands it each
 * event (`onEvent`). Nothing is shown without the permission, which only a click asks for.
 */
export function useDesktopNotifications(
  board: string | null,
  titleOf: (taskId: string) => string | null,
  openTask: (taskId: string) => void,
): (event: LiveEventLike) => void {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const listInput = { board: board ?? undefined, platform: DESKTOP_PLATFORM };
  const subs = useQuery({ ...trpc.notify.list.queryOptions(listInput), enabled: board !== null });
  // Whether a rule gives new cards a desktop subscription: only then is a card unknown to the list
  // worth reading the list again for at once (otherwise at most every REREAD_MS).
  const rules = useQuery({ ...trpc.notify.rules.queryOptions({ board: board ?? undefined }), enabled: board !== null });
  const desktopRule = useRef(false);
  desktopRule.current = (rules.data?.rules ?? []).some((r) => r.platform === DESKTOP_PLATFORM);
  const watched = useRef<Set<string>>(new Set());
  watched.current = desktopTaskIds(subs.data?.subscriptions ?? []);
  const lastRead = useRef(0);
  const titleRef = useRef(titleOf);
  titleRef.current = titleOf;
  const openRef = useRef(openTask);
  openRef.current = openTask;
  const shown = useRef(new Set<string>());

  return useCallback(
    (event: LiveEventLike) => {
      const taskId = event.task_id;
      if (!taskId || typeof window === "undefined" || !("Notification" in window)) return;
      if (Notification.permission !== "granted") return;
      const input = { board: board ?? undefined };
      const show = async () => {
        if (!watched.current.has(taskId)) {
          // A card created since the list was read may have been given a desktop subscription by a
          // rule (or by someone else's CLI): read the list again before deciding, at once when a
          // desktop rule exists, else at most every REREAD_MS.
          if (!desktopRule.current && Date.now() - lastRead.current < REREAD_MS) return;
          lastRead.current = Date.now();
          const fresh = await queryClient.fetchQuery({
            ...trpc.notify.list.queryOptions({ ...input, platform: DESKTOP_PLATFORM }),
            staleTime: 0,
          });
          watched.current = desktopTaskIds(fresh.subscriptions);
          if (!watched.current.has(taskId)) return;
        }
        let title = titleRef.current(taskId);
        if (title === null) {
          const detail = await queryClient.fetchQuery(trpc.tasks.get.queryOptions({ ...input, id: taskId }));
          title = detail.task.title;
        }
        const msg = desktopMessage(event, title);
        if (!msg || shown.current.has(msg.tag)) return;
        shown.current.add(msg.tag);
        const n = new Notification(msg.title, { body: msg.body, tag: msg.tag, requireInteraction: msg.needsYou });
        n.onclick = () => {
          window.focus();
          openRef.current(taskId);
          n.close();
        };
      };
      if (desktopMessage(event, "") !== null) void show().catch(() => {});
    },
    [board, queryClient, trpc],
  );
}
