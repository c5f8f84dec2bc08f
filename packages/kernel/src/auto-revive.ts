import { DEFAULT_AUTO_REVIVE_COOLDOWNS_SECONDS, DEFAULT_AUTO_REVIVE_MAX } from "./constants.ts";
import type { BoardContext } from "./context.ts";
import { parseJsonObject } from "./rows.ts";
import { appendEvent } from "./store/sqlite/events.ts";
import { breakerBlockedCandidates, type ReviveEventRow, reviveEvents } from "./store/sqlite/revive-reads.ts";
import { transition } from "./transition.ts";

/**
 * Auto-revive (issue 17): a card the breaker blocked after failures that pass by themselves (a
 * crash, a timeout, a transient failure, a spawn that failed for no permanent reason) is put back
 * in the ready lane after a growing cooldown, a bounded number of times, so that a short outage
 * never needs a person. The breaker's counter is left as it was, so each revive buys exactly one
 * more attempt: the next counted failure blocks the card again, and the next revive waits longer.
 * A sticky trip (protocol violations, a systemic crash, a permanent spawn failure), a worker's or a
 * person's block, and an infrastructure refusal are never revived. A person's unblock (or a
 * completion) starts the count again.
 */
export interface AutoReviveConfig {
  /** Cooldown before the 1st, 2nd, … revive, from the trip; the last one repeats. */
  cooldowns: readonly number[];
  /** Revives before the card stays blocked for a person; 0 turns auto-revive off. */
  max: number;
}

export const DEFAULT_AUTO_REVIVE: AutoReviveConfig = {
  cooldowns: DEFAULT_AUTO_REVIVE_COOLDOWNS_SECONDS,
  max: DEFAULT_AUTO_REVIVE_MAX,
};

/** The trip causes that pass by themselves (the gave_up event's `trigger_outcome` or `failure_class`). */
const REVIVABLE_TRIGGERS = new Set(["crashed", "timed_out", "transient", "spawn_failed"]);

/** What the revive rule decided for one blocked card. */
export type ReviveVerdict =
  | {
      state: "pending";
      /** When the card goes back to ready (it may be past: the next tick does it). */
      due_at: number;
      /** Which revive this is (1-based) and of how many. */
      attempt: number;
      max: number;
      cooldown_seconds: number;
      trigger_outcome: string;
    }
  | {
      state: "exhausted";
      revives: number;
      max: number;
      trigger_outcome: string;
      /** Whether the `auto_revive_exhausted` event was already written for this trip. */
      announced: boolean;
    };

function payloadOf(e: { payload: unknown }): Record<string, unknown> {
  return parseJsonObject(e.payload) ?? {};
}

/** The config with its bounds applied: whole non-negative seconds, at least one cooldown. */
export function normaliseAutoRevive(cfg: Partial<AutoReviveConfig> = {}): AutoReviveConfig {
  const cooldowns = (cfg.cooldowns ?? DEFAULT_AUTO_REVIVE.cooldowns).filter((n) => Number.isFinite(n) && n >= 0);
  return {
    cooldowns: cooldowns.length > 0 ? cooldowns.map((n) => Math.floor(n)) : DEFAULT_AUTO_REVIVE.cooldowns,
    max: Math.max(0, Math.floor(cfg.max ?? DEFAULT_AUTO_REVIVE.max)),
  };
}

/**
 * The revive rule over a blocked card's events (newest first): null when the card is not the
 * breaker's for a revivable cause (or auto-revive is off); else when it is revived, or that its
 * revives are used up. Shared by the dispatcher's verb and the motion (`kanban why`).
 */
export function judgeRevive(
  events: readonly Pick<ReviveEventRow, "kind" | "payload" | "created_at">[],
  cfg: AutoReviveConfig,
): ReviveVerdict | null {
  if (cfg.max <= 0) return null;
  let announced = false;
  let i = 0;
  for (; i < events.length && events[i]?.kind === "auto_revive_exhausted"; i++) announced = true;
  const trip = events[i];
  // The newest state-changing event must be the breaker's trip: a later block is a person's or a
  // worker's (or the sticky mark of a forced trip).
  if (trip?.kind !== "gave_up") return null;
  const p = payloadOf(trip);
  if (p.sticky === true || p.permanent === true || p.infrastructure === true) return null;
  const trigger =
    p.failure_class === "transient" ? "transient" : typeof p.trigger_outcome === "string" ? p.trigger_outcome : "";
  if (!REVIVABLE_TRIGGERS.has(trigger)) return null;
  let revives = 0;
  for (const e of events.slice(i + 1)) {
    if (e.kind === "unblocked" || e.kind === "completed") break;
    if (e.kind === "auto_revived") revives++;
  }
  if (revives >= cfg.max) return { state: "exhausted", revives, max: cfg.max, trigger_outcome: trigger, announced };
  const cooldown = cfg.cooldowns[Math.min(revives, cfg.cooldowns.length - 1)] ?? 0;
  return {
    state: "pending",
    due_at: trip.created_at + cooldown,
    attempt: revives + 1,
    max: cfg.max,
    cooldown_seconds: cooldown,
    trigger_outcome: trigger,
  };
}

/** The revive verdict of each blocked task among `ids` (for the motion: one read for all). */
export async function reviveVerdicts(
  ctx: BoardContext,
  ids: readonly string[],
  cfg: Partial<AutoReviveConfig> = {},
): Promise<Map<string, ReviveVerdict>> {
  const c = normaliseAutoRevive(cfg);
  const out = new Map<string, ReviveVerdict>();
  if (c.max <= 0 || ids.length === 0) return out;
  for (const [id, events] of await reviveEvents(ctx, ids)) {
    const v = judgeRevive(events, c);
    if (v !== null) out.set(id, v);
  }
  return out;
}

/**
 * Puts back in the ready lane each breaker-blocked card whose revive cooldown is over (event
 * `auto_revived {attempt, max, cooldown_seconds, trigger_outcome}`), and marks once each card whose
 * revives are used up (`auto_revive_exhausted`): it stays blocked for a person. The dispatcher
 * calls it every tick; it reads only blocked cards with counted failures.
 */
export async function reviveBrokenCards(
  ctx: BoardContext,
  cfg: Partial<AutoReviveConfig> = {},
): Promise<{ revived: string[]; exhausted: string[] }> {
  const c = normaliseAutoRevive(cfg);
  const out = { revived: [] as string[], exhausted: [] as string[] };
  if (c.max <= 0) return out;
  const candidates = await breakerBlockedCandidates(ctx);
  if (candidates.length === 0) return out;
  const events = await reviveEvents(
    ctx,
    candidates.map((t) => t.id),
  );
  const now = ctx.now();
  for (const task of candidates) {
    const v = judgeRevive(events.get(task.id) ?? [], c);
    if (v === null) continue;
    if (v.state === "exhausted") {
      if (v.announced) continue;
      const wrote = await ctx.tx(async () => {
        // Re-read under the transaction: another dispatcher may have announced it first.
        const fresh = judgeRevive((await reviveEvents(ctx, [task.id])).get(task.id) ?? [], c);
        if (fresh?.state !== "exhausted" || fresh.announced) return false;
        await appendEvent(ctx, task.id, "auto_revive_exhausted", {
          revives: v.revives,
          max: v.max,
          trigger_outcome: v.trigger_outcome,
          reason: `revived automatically ${v.revives} time(s), the limit: it stays blocked until someone unblocks it`,
        });
        return true;
      });
      if (wrote) out.exhausted.push(task.id);
      continue;
    }
    if (now < v.due_at) continue;
    const revived = await ctx.tx(async () => {
      if ((await transition(ctx, "promote", task.id, { to: "ready", from: "blocked" })) !== 1) return false;
      await appendEvent(ctx, task.id, "auto_revived", {
        attempt: v.attempt,
        max: v.max,
        cooldown_seconds: v.cooldown_seconds,
        trigger_outcome: v.trigger_outcome,
      });
      return true;
    });
    if (revived) out.revived.push(task.id);
  }
  return out;
}
