"use client";

import type { ComponentType, SVGProps } from "react";
import { type CardMotion, cardMotionLine, type MotionFamily, motionFamily } from "../lib/motion.ts";
import {
  BoltIcon,
  ClockIcon,
  HeartIcon,
  PauseIcon,
  PersonIcon,
  PulseIcon,
  ServerIcon,
  ShieldIcon,
  WarnIcon,
} from "./icons.tsx";
import { cx } from "./ui.tsx";

/** One colour and one icon per family of motion codes (see lib/motion.ts), so a column reads at a glance. */
export const MOTION_LOOK: Record<
  MotionFamily,
  { cls: string; Icon: ComponentType<SVGProps<SVGSVGElement>>; label: string }
> = {
  waiting: { cls: "text-muted", Icon: ClockIcon, label: "Waiting" },
  held: { cls: "text-warn", Icon: PauseIcon, label: "Held by admission" },
  guard: { cls: "text-warn", Icon: ShieldIcon, label: "Held by a respawn guard" },
  breaker: { cls: "text-danger", Icon: BoltIcon, label: "Circuit breaker tripped" },
  unhealthy: { cls: "text-danger", Icon: PulseIcon, label: "Running, not healthy" },
  attention: { cls: "text-warn", Icon: PersonIcon, label: "Needs a person" },
  nohost: { cls: "text-warn", Icon: ServerIcon, label: "No host can take it" },
  settled: { cls: "text-faint", Icon: ClockIcon, label: "Settled" },
  moving: { cls: "text-ok", Icon: HeartIcon, label: "Moving" },
  other: { cls: "text-muted", Icon: WarnIcon, label: "Not moving" },
};

/** The icon of a motion code, coloured for its family. */
export function MotionIcon({ code, size = 11 }: { code: string; size?: number }) {
  const look = MOTION_LOOK[motionFamily(code)];
  return <look.Icon width={size} height={size} className={cx("shrink-0", look.cls)} aria-hidden />;
}

/**
 * The card's one line saying why it is not moving: the server's sentence, truncated to one line with
 * the whole sentence as its tooltip. Nothing for a moving card, or a done or archived one.
 */
export function CardMotionLine({ motion }: { motion: CardMotion | null | undefined }) {
  const m = cardMotionLine(motion);
  if (!m) return null;
  const family = motionFamily(m.code);
  const look = MOTION_LOOK[family];
  return (
    <div
      data-testid="card-motion"
      data-code={m.code}
      data-family={family}
      title={m.line}
      className={cx("mt-1.5 flex min-w-0 items-center gap-1 text-[11px] leading-tight", look.cls)}
    >
      <MotionIcon code={m.code} />
      <span className="sr-only">{look.label}: </span>
      <span data-testid="card-motion-line" className="min-w-0 truncate">
        {m.line}
      </span>
    </div>
  );
}
