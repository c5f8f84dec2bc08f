"use client";

import { type ReactNode, useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import { buildOffsets, scrollToReveal, visibleRange } from "../lib/windowing.ts";
import { cx } from "./ui.tsx";

/** Columns longer than this render only what is on screen (plus overscan). */
export const WINDOW_THRESHOLD = 60;
const OVERSCAN_PX = 800;
const NEAR_END_PX = 400;

/**
 * A vertical list that stays fast at thousands of rows: items are positioned from measured
 * heights (an estimate until first drawn), and only the ones near the viewport are mounted.
 * Short lists render plainly. `revealKey` scrolls an item into view (keyboard navigation).
 */
export function VirtualList<T extends { key: string }>({
  items,
  estimate,
  render,
  revealKey,
  className,
  header,
  testId,
  onNearEnd,
}: {
  items: readonly T[];
  estimate: (item: T) => number;
  render: (item: T) => ReactNode;
  revealKey?: string | null;
  className?: string;
  header?: ReactNode;
  testId?: string;
  /** Called when the viewport nears the end of the list (load the next page). */
  onNearEnd?: () => void;
}) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const heights = useRef(new Map<string, number>());
  const [version, setVersion] = useState(0);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewport, setViewport] = useState(900);
  const windowed = items.length > WINDOW_THRESHOLD;

  // biome-ignore lint/correctness/useExhaustiveDependencies: `version` changes when a measured height does
  const offsets = useMemo(
    () => buildOffsets(items.map((it) => heights.current.get(it.key) ?? estimate(it))),
    [items, estimate, version],
  );

  useLayoutEffect(() => {
    const el = scrollRef.current;
    if (!el || typeof ResizeObserver === "undefined") return;
    const ro = new ResizeObserver(() => setViewport(el.clientHeight));
    ro.observe(el);
    setViewport(el.clientHeight);
    return () => ro.disconnect();
  }, []);

  const observer = useMemo(() => {
    if (typeof ResizeObserver === "undefined") return null;
    return new ResizeObserver((entries) => {
      let changed = false;
      for (const entry of entries) {
        const el = entry.target as HTMLElement;
        const key = el.dataset.vkey;
        if (!key) continue;
        const h = Math.ceil(el.getBoundingClientRect().height);
        if (h > 0 && heights.current.get(key) !== h) {
          heights.current.set(key, h);
          changed = true;
        }
      }
      if (changed) setVersion((v) => v + 1);
    });
  }, []);
  useEffect(() => () => observer?.disconnect(), [observer]);

  const measure = useCallback(
    (el: HTMLDivElement | null) => {
      if (!el || !observer) return;
      observer.observe(el);
      return () => observer.unobserve(el);
    },
    [observer],
  );

  const revealIndex = revealKey ? items.findIndex((it) => it.key === revealKey) : -1;
  // biome-ignore lint/correctness/useExhaustiveDependencies: only when the revealed item changes; re-measuring must not yank the scroll position
  useEffect(() => {
    const el = scrollRef.current;
    if (!windowed || !el || revealIndex < 0) return;
    const top = scrollToReveal(offsets, revealIndex, el.scrollTop, el.clientHeight);
    if (top !== el.scrollTop) el.scrollTop = top;
  }, [revealIndex, windowed]);

  const { start, end } = windowed
    ? visibleRange(offsets, scrollTop, viewport, OVERSCAN_PX)
    : { start: 0, end: items.length };

  // biome-ignore lint/correctness/useExhaustiveDependencies: re-checked whenever the list scrolls or resizes
  useEffect(() => {
    const el = scrollRef.current;
    if (!onNearEnd || !el) return;
    const nearBottom = el.scrollTop + el.clientHeight >= el.scrollHeight - NEAR_END_PX;
    if (nearBottom || (windowed && end >= items.length)) onNearEnd();
  }, [onNearEnd, scrollTop, viewport, end, items.length, windowed]);

  return (
    <div
      ref={scrollRef}
      data-testid={testId}
      data-windowed={windowed || undefined}
      className={cx("min-h-0 overflow-y-auto", className)}
      onScroll={windowed || onNearEnd ? (e) => setScrollTop(e.currentTarget.scrollTop) : undefined}
    >
      {header}
      {windowed ? (
        <div style={{ height: offsets[items.length] ?? 0, position: "relative" }}>
          {items.slice(start, end).map((it, i) => (
            <div
              key={it.key}
              ref={measure}
              data-vkey={it.key}
              className="absolute right-0 left-0 pb-1.5"
              style={{ top: offsets[start + i] ?? 0 }}
            >
              {render(it)}
            </div>
          ))}
        </div>
      ) : (
        items.map((it) => (
          <div key={it.key} className="pb-1.5">
            {render(it)}
          </div>
        ))
      )}
    </div>
  );
}
