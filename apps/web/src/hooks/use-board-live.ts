"use client";

import { useEffect, useRef, useState } from "react";
import type { RouterInputs } from "@kanban/api";
import { backoffMs, type LiveStatus } from "../lib/live.ts";
import type { BoardChange } from "../lib/types.ts";
import { useTRPCClient } from "../trpc/react.tsx";

/** One event of the stream, as the board hands it on. */
export interface LiveEvent {
  id: number;
  task_id: string | null;
  kind: string;
  payload: Record<string, unknown> | null;
}

/** How long a dropped stream may try to reconnect before the indicator says "offline". */
const OFFLINE_AFTER_MS = 4000;

/** What a board view subscribes with: board.get's input, less its page sizes. */
export type LiveViewInput = Omit<RouterInputs["board"]["changes"], "after" | "lastEventId">;

/**
 * Keeps a board view current by deltas (`board.changes`, issue 19): subscribes from `latestEventId`
 * (the board response's cursor) and hands each message to `onChange` with the id of the last event
 * it covers, to be applied to the board the page holds. A dropped stream resumes from the last
 * message it saw (the link sends it as `lastEventId`); a stream that failed for good is re-opened
 * with exponential backoff, and after any gap `onGap` reads the board again whole, since changes
 * may have been missed while away. A new view (board or filters) is a new subscription.
 */
export function useBoardLive(
  view: LiveViewInput | null,
  latestEventId: number | null,
  onChange: (change: BoardChange, cursor: number) => void,
  onGap: () => void,
  /** Called when the stream drops: the board probes the server at once instead of waiting. */
  onTrouble?: () => void,
  /** Each event as it arrives (the desktop notifications read them). */
  onEvent?: (event: LiveEvent) => void,
): LiveStatus {
  const client = useTRPCClient();
  const [status, setStatus] = useState<LiveStatus>("connecting");
  const onChangeRef = useRef(onChange);
  onChangeRef.current = onChange;
  const onGapRef = useRef(onGap);
  onGapRef.current = onGap;
  const onTroubleRef = useRef(onTrouble);
  onTroubleRef.current = onTrouble;
  const onEventRef = useRef(onEvent);
  onEventRef.current = onEvent;
  const viewKey = view === null ? null : JSON.stringify(view);
  const cursor = useRef<{ view: string; id: number } | null>(null);
  const ready = viewKey !== null && latestEventId !== null;

  // biome-ignore lint/correctness/useExhaustiveDependencies: reconnect only when the view changes; the cursor carries over between connections
  useEffect(() => {
    if (!ready || viewKey === null || latestEventId === null) return;
    const input = JSON.parse(viewKey) as LiveViewInput;
    if (cursor.current?.view !== viewKey) cursor.current = { view: viewKey, id: latestEventId };
    let closed = false;
    let attempt = 0;
    let hadGap = false;
    let retryTimer: ReturnType<typeof setTimeout> | null = null;
    let offlineTimer: ReturnType<typeof setTimeout> | null = null;
    let sub: { unsubscribe(): void } | null = null;

    const markTrouble = () => {
      hadGap = true;
      onTroubleRef.current?.();
      setStatus((s) => (s === "offline" ? s : "reconnecting"));
      if (offlineTimer === null) {
        offlineTimer = setTimeout(() => {
          if (!closed) setStatus("offline");
        }, OFFLINE_AFTER_MS);
      }
    };
    const markLive = () => {
      if (offlineTimer !== null) clearTimeout(offlineTimer);
      offlineTimer = null;
      attempt = 0;
      setStatus("live");
      if (hadGap) {
        hadGap = false;
        onGapRef.current();
      }
    };
    const scheduleReconnect = () => {
      sub?.unsubscribe();
      sub = null;
      if (closed) return;
      markTrouble();
      retryTimer = setTimeout(connect, backoffMs(attempt++));
    };
    function connect() {
      if (closed) return;
      const from = cursor.current?.id ?? latestEventId ?? 0;
      sub = client.board.changes.subscribe(
        { ...input, after: from },
        {
          onConnectionStateChange(state) {
            if (state.state === "pending") markLive();
            else if (state.state === "connecting" && state.error) markTrouble();
          },
          onData(envelope) {
            const id = Number(envelope.id);
            if (cursor.current && Number.isFinite(id) && id > cursor.current.id)
              cursor.current = { view: cursor.current.view, id };
            onChangeRef.current(envelope.data, Number.isFinite(id) ? id : 0);
            for (const e of envelope.data.events) onEventRef.current?.(e);
          },
          onError: scheduleReconnect,
          onComplete: scheduleReconnect,
        },
      );
    }
    connect();
    return () => {
      closed = true;
      if (retryTimer !== null) clearTimeout(retryTimer);
      if (offlineTimer !== null) clearTimeout(offlineTimer);
      sub?.unsubscribe();
    };
  }, [viewKey, ready, client]);

  return status;
}
