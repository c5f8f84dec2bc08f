"use client";

import { type RefObject, useEffect, useState } from "react";
import { columnLabel } from "../lib/columns.ts";
import { cx } from "./ui.tsx";

interface Hidden {
  name: string;
  count: string;
}

/** Columns of a horizontally scrolled board that lie (mostly) outside its visible width. */
function hiddenColumns(el: HTMLElement): { left: Hidden[]; right: Hidden[] } {
  const left: Hidden[] = [];
  const right: Hidden[] = [];
  const view = el.getBoundingClientRect();
  for (const col of el.querySelectorAll<HTMLElement>("section[data-column]")) {
    const r = col.getBoundingClientRect();
    const name = col.dataset.column ?? "";
    const count = col.querySelector("[data-column-count]")?.textContent ?? "";
    // Less than half of it on screen counts as hidden: its cards cannot be read.
    if (r.left + r.width / 2 > view.right) right.push({ name, count });
    else if (r.right - r.width / 2 < view.left) left.push({ name, count });
  }
  return { left, right };
}

/**
 * On a narrow window the board scrolls sideways: says which columns are off screen (with their
 * counts) at the edge where they are, and scrolls to them on a click, so a board whose Done column
 * is off to the right never looks empty.
 */
export function ScrollHints({ scroller, deps }: { scroller: RefObject<HTMLElement | null>; deps: unknown }) {
  const [hidden, setHidden] = useState<{ left: Hidden[]; right: Hidden[] }>({ left: [], right: [] });
  // biome-ignore lint/correctness/useExhaustiveDependencies: `deps` changes when the columns do
  useEffect(() => {
    const el = scroller.current;
    if (!el) return;
    let frame = 0;
    const update = () => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(() => {
        const next = hiddenColumns(el);
        setHidden((prev) => (JSON.stringify(prev) === JSON.stringify(next) ? prev : next));
      });
    };
    update();
    el.addEventListener("scroll", update, { passive: true });
    const ro = typeof ResizeObserver === "undefined" ? null : new ResizeObserver(update);
    ro?.observe(el);
    return () => {
      cancelAnimationFrame(frame);
      el.removeEventListener("scroll", update);
      ro?.disconnect();
    };
  }, [scroller, deps]);

  const go = (side: "left" | "right") => {
    const el = scroller.current;
    // The farthest hidden column, aligned to the edge: every hidden column on that side comes into view.
    const target = side === "right" ? hidden.right.at(-1) : hidden.left[0];
    if (!el || !target) return;
    el.querySelector<HTMLElement>(`section[data-column="${target.name}"]`)?.scrollIntoView({
      behavior: "smooth",
      inline: side === "right" ? "end" : "start",
      block: "nearest",
    });
  };
  const pill =
    "pointer-events-auto flex items-center gap-1 whitespace-nowrap rounded-full border border-line bg-panel px-2.5 py-1 text-xs shadow-pop hover:bg-hover";
  return (
    <>
      {hidden.left.length > 0 && (
        <div className="pointer-events-none absolute inset-y-0 left-0 z-10 flex w-16 items-center justify-start bg-gradient-to-r from-[var(--bg)] to-transparent pl-2">
          <button
            type="button"
            data-testid="scroll-left"
            className={pill}
            onClick={() => go("left")}
            title="Scroll to the columns on the left"
          >
            ← {hidden.left.map((h) => columnLabel(h.name)).join(", ")}
          </button>
        </div>
      )}
      {hidden.right.length > 0 && (
        <div
          className={cx(
            "pointer-events-none absolute inset-y-0 right-0 z-10 flex items-center justify-end bg-gradient-to-l from-[var(--bg)] to-transparent pr-2",
            "w-24",
          )}
        >
          <button
            type="button"
            data-testid="scroll-right"
            className={pill}
            onClick={() => go("right")}
            title="Scroll to the columns on the right"
          >
            {hidden.right.map((h) => `${columnLabel(h.name)} ${h.count}`.trim()).join(" · ")} →
          </button>
        </div>
      )}
    </>
  );
}
