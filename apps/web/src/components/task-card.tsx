"use client";

import { useDraggable } from "@dnd-kit/core";
import { memo, useEffect, useRef } from "react";
import { useNow } from "../hooks/use-now.ts";
import { ago, countdown, liveness, priorityLabel, SEVERITY_CLASS, shortDuration } from "../lib/format.ts";
import type { Card } from "../lib/types.ts";
import { requiresOf } from "../lib/labels.ts";
import { warningsTitle } from "../lib/warnings.ts";
import { CommentIcon, HeartIcon, LinkIcon, WarnIcon } from "./icons.tsx";
import { LabelChips } from "./labels-input.tsx";
import { CardMotionLine } from "./motion-line.tsx";
import { Chip, cx } from "./ui.tsx";

const LIVENESS_CLASS = { alive: "text-ok", quiet: "text-warn", stale: "text-danger" } as const;

/** Heartbeat age, lease countdown and worker pid of a running card, ticking every second. */
export function Liveness({
  card,
  compact,
}: {
  card: Pick<Card, "last_heartbeat_at" | "started_at" | "run_started_at" | "claim_expires" | "worker_pid">;
  compact?: boolean;
}) {
  const now = useNow();
  // The current attempt's start: a worker that was just respawned is alive, whatever its first claim's age.
  const state = liveness({
    now,
    lastHeartbeat: card.last_heartbeat_at,
    startedAt: card.run_started_at ?? card.started_at,
    claimExpires: card.claim_expires,
  });
  return (
    <div
      data-testid="liveness"
      data-state={state}
      className={cx(
        "flex flex-wrap items-center gap-x-2 gap-y-0.5 text-[11px] tabular-nums",
        compact ? "" : "rounded bg-panel-2 px-1.5 py-1",
      )}
    >
      <span className={cx("inline-flex items-center gap-1", LIVENESS_CLASS[state])} title="Last worker heartbeat">
        <HeartIcon width={11} height={11} />
        <span data-testid="heartbeat-age">
          {card.last_heartbeat_at === null ? "no heartbeat yet" : ago(card.last_heartbeat_at, now)}
        </span>
      </span>
      <span className="text-muted" title="Claim lease: the dispatcher reclaims the task when it runs out">
        lease <span data-testid="lease">{card.claim_expires === null ? "—" : countdown(card.claim_expires - now)}</span>
      </span>
      <span className="text-muted" title="Worker process id">
        pid <span data-testid="worker-pid">{card.worker_pid ?? "—"}</span>
      </span>
    </div>
  );
}

export interface CardProps {
  card: Card;
  /** The board response's `now`: ages are relative to it (they move on every reload). */
  now: number;
  focused: boolean;
  tabbable: boolean;
  selected: boolean;
  selecting: boolean;
  failure: string | null;
  onOpen: (id: string) => void;
  onSelect: (id: string, mode: "toggle" | "range") => void;
  onFocus: (id: string) => void;
}

function CardBody({ card, now }: { card: Card; now: number }) {
  const p = priorityLabel(card.priority);
  const links = card.link_counts.parents + card.link_counts.children;
  const requires = requiresOf(card);
  return (
    <>
      <div className="flex items-center gap-1.5">
        <span className="font-mono text-[11px] text-faint">{card.id}</span>
        <span className="flex-1" />
        {p && (
          <Chip
            className={
              card.priority > 0 ? "bg-accent-soft text-accent ring-accent/30" : "bg-panel-2 text-muted ring-line"
            }
            title="Priority"
          >
            {p}
          </Chip>
        )}
        {card.warnings && (
          <span
            data-testid="warning-badge"
            data-severity={card.warnings.highest_severity}
            title={warningsTitle(card.warnings)}
            className={cx(
              "inline-flex items-center gap-0.5 rounded px-1 py-px font-medium text-[11px] ring-1 ring-inset",
              SEVERITY_CLASS[card.warnings.highest_severity],
            )}
          >
            <WarnIcon width={11} height={11} />
            {card.warnings.count}
          </span>
        )}
      </div>
      <div data-testid="card-title" className="mt-0.5 line-clamp-2 break-words font-medium text-[13px] leading-snug">
        {card.title}
      </div>
      <div className="mt-1.5 flex flex-wrap items-center gap-1">
        {card.assignee ? (
          <Chip data-testid="card-assignee" className="bg-panel-2 text-fg ring-line">
            @{card.assignee}
          </Chip>
        ) : (
          <Chip data-testid="card-assignee" className="bg-warn-soft text-warn ring-warn/30">
            needs assignee
          </Chip>
        )}
        {card.tenant && <Chip title="Tenant">{card.tenant}</Chip>}
        {card.skills.slice(0, 3).map((s) => (
          <Chip key={s} className="bg-transparent text-muted ring-line" title="Skill">
            {s}
          </Chip>
        ))}
        {card.skills.length > 3 && <span className="text-[11px] text-faint">+{card.skills.length - 3}</span>}
        <LabelChips labels={requires} testId="card-requires" title="Runs only on a host with this label" max={3} />
      </div>
      <div className="mt-1.5 flex items-center gap-2.5 text-[11px] text-faint">
        {card.comment_count > 0 && (
          <span className="inline-flex items-center gap-0.5" title={`${card.comment_count} comments`}>
            <CommentIcon width={11} height={11} />
            {card.comment_count}
          </span>
        )}
        {links > 0 && (
          <span
            className="inline-flex items-center gap-0.5"
            title={`${card.link_counts.parents} parents, ${card.link_counts.children} children`}
          >
            <LinkIcon width={11} height={11} />
            {card.link_counts.parents}/{card.link_counts.children}
          </span>
        )}
        {card.progress && (
          <span
            data-testid="progress"
            className={cx(
              "rounded px-1 tabular-nums ring-1 ring-inset",
              card.progress.done === card.progress.total ? "text-ok ring-ok/30" : "text-muted ring-line",
            )}
            title="Children done"
          >
            {card.progress.done}/{card.progress.total}
          </span>
        )}
        <span className="flex-1" />
        <span title="Age">{shortDuration(now - card.created_at)}</span>
      </div>
      {card.status === "running" && (
        <div className="mt-1.5">
          <Liveness card={card} />
        </div>
      )}
      <CardMotionLine motion={card.motion} />
    </>
  );
}

/** A card as drawn inside the drag overlay (no handlers). */
export function CardPreview({ card, now, count }: { card: Card; now: number; count: number }) {
  return (
    <div className="relative w-[268px] rotate-1 cursor-grabbing rounded-lg border border-accent/50 bg-panel p-2.5 shadow-pop">
      <CardBody card={card} now={now} />
      {count > 1 && (
        <span className="-top-2 -right-2 absolute rounded-full bg-accent px-1.5 font-semibold text-[11px] text-accent-fg">
          {count}
        </span>
      )}
    </div>
  );
}

export const TaskCard = memo(function TaskCard({
  card,
  now,
  focused,
  tabbable,
  selected,
  selecting,
  failure,
  onOpen,
  onSelect,
  onFocus,
}: CardProps) {
  const { setNodeRef, listeners, isDragging } = useDraggable({ id: card.id, data: { status: card.status } });
  const ref = useRef<HTMLDivElement | null>(null);

  useEffect(() => {
    // Keyboard navigation moves focus with the highlight (unless the person is typing somewhere).
    const active = document.activeElement;
    if (
      focused &&
      ref.current &&
      active !== ref.current &&
      !(active instanceof HTMLInputElement || active instanceof HTMLTextAreaElement)
    ) {
      ref.current.focus({ preventScroll: false });
    }
  }, [focused]);

  return (
    // biome-ignore lint/a11y/useSemanticElements: a card holds a checkbox; a <button> may not contain interactive content
    <div
      ref={(el) => {
        ref.current = el;
        setNodeRef(el);
      }}
      {...listeners}
      role="button"
      tabIndex={focused || tabbable ? 0 : -1}
      aria-roledescription="draggable card"
      aria-label={`${card.id}: ${card.title}`}
      aria-pressed={selected}
      data-testid={`card-${card.id}`}
      data-status={card.status}
      data-selected={selected || undefined}
      data-focused={focused || undefined}
      onFocus={() => onFocus(card.id)}
      onKeyDown={(e) => {
        if (e.key === "Enter" && e.target === e.currentTarget) {
          e.preventDefault();
          onOpen(card.id);
        }
      }}
      onClick={(e) => {
        if (e.shiftKey || e.metaKey || e.ctrlKey) {
          e.preventDefault();
          onSelect(card.id, e.shiftKey ? "range" : "toggle");
        } else {
          onOpen(card.id);
        }
      }}
      className={cx(
        "group relative cursor-pointer rounded-lg border bg-panel p-2.5 shadow-card outline-none transition-[border-color,box-shadow]",
        "hover:border-line-strong focus-visible:ring-2 focus-visible:ring-accent/60",
        selected ? "border-accent ring-1 ring-accent/40" : "border-line",
        focused && !selected && "border-accent/60",
        failure && "border-danger ring-1 ring-danger/40",
        isDragging && "opacity-40",
      )}
      title={failure ?? undefined}
    >
      <input
        type="checkbox"
        aria-label={`Select ${card.id}`}
        data-testid={`card-select-${card.id}`}
        checked={selected}
        onChange={() => onSelect(card.id, "toggle")}
        onClick={(e) => e.stopPropagation()}
        onPointerDown={(e) => e.stopPropagation()}
        tabIndex={-1}
        className={cx(
          "-left-1.5 -top-1.5 absolute size-3.5 cursor-pointer accent-[var(--accent)]",
          selected || selecting ? "opacity-100" : "opacity-0 group-hover:opacity-100 focus:opacity-100",
        )}
      />
      <CardBody card={card} now={now} />
      {failure && (
        <div data-testid="card-failure" className="mt-1.5 rounded bg-danger-soft px-1.5 py-1 text-[11px] text-danger">
          {failure}
        </div>
      )}
    </div>
  );
});
