"use client";

import { useEffect, useRef, useState } from "react";
import { backoffMs, EventBatcher, type LiveStatus } from "../lib/live.ts";
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

/**
 * Keeps a board current: subscribes to its events from `latestEventId` (the board response's
 * cursor), and after a burst of events (debounced) calls `onEvents` with the touched task ids.
 * A dropped stream resumes from the last event it saw (the link sends it as `lastEventId`); a
 * stream that failed for good is re-opened with exponential backoff, and the board is reloaded
 * whole after any gap, since events may have been missed while away.
 */
export function useBoardLive(
  board: string | null,
  latestEventId: number | null,
  onEvents: (taskIds: Set<string>) => void,
  /** Called when the stream drops: the board probes the server at once instead of waiting. */
  onTrouble?: () => void,
  /** Each event as it arrives (the desktop notifications read them); the board still reloads in batches. */
  onEvent?: (event: LiveEvent) => void,
): LiveStatus {
  const client = useTRPCClient();
  const [status, setStatus] = useState<LiveStatus>("connecting");
  const onEventsRef = useRef(onEvents);
  onEventsRef.current = onEvents;
  const onTroubleRef = useRef(onTrouble);
  onTroubleRef.current = onTrouble;
  const onEventRef = useRef(onEvent);
  onEventRef.current = onEvent;
  const cursor = useRef<{ board: string; id: number } | null>(null);
  const ready = board !== null && latestEventId !== null;

  // biome-ignore lint/correctness/useExhaustiveDependencies: reconnect only when the board changes; the cursor carries over between connections
  useEffect(() => {
    if (!ready || board === null || latestEventId === null) return;
    if (cursor.current?.board !== board) cursor.current = { board, id: latestEventId };
    let closed = false;
    let attempt = 0;
    let hadGap = false;
    let retryTimer: ReturnType<typeof setTimeout> | null = null;
    let offlineTimer: ReturnType<typeof setTimeout> | null = null;
    let sub: { unsubscribe(): void } | null = null;
    const batcher = new EventBatcher((ids) => onEventsRef.current(ids));

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
        onEventsRef.current(new Set());
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
      sub = client.events.subscribe.subscribe(
        { board: board ?? undefined, after: from },
        {
          onConnectionStateChange(state) {
            if (state.state === "pending") markLive();
            else if (state.state === "connecting" && state.error) markTrouble();
          },
          onData(envelope) {
            const id = Number(envelope.id);
            if (cursor.current && Number.isFinite(id) && id > cursor.current.id)
              cursor.current = { board: cursor.current.board, id };
            batcher.add(envelope.data.task_id);
            onEventRef.current?.(envelope.data);
          },
          onError: scheduleReconnect,
          onComplete: scheduleReconnect,
        },
      );
    }
    connect();
    return () => {
      closed = true;
      batcher.cancel();
      if (retryTimer !== null) clearTimeout(retryTimer);
      if (offlineTimer !== null) clearTimeout(offlineTimer);
      sub?.unsubscribe();
    };
  }, [board, ready, client]);

  return status;
}
