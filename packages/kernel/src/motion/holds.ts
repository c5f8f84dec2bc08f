import type { BudgetHold } from "../budgets.ts";
import { formatMicroUsd } from "../money.ts";
import type { RespawnGuardReason, RespawnHold } from "../respawn-guard.ts";
import type { Motion } from "./types.ts";
import { clockTime, span } from "./words.ts";

/**
 * Why a ready task is not started, as the dispatcher's lane decides it (claim-next.ts) and as the
 * motion explains it: one set of rules, so `kanban dispatch` and `kanban why` can never disagree.
 */
export type ReadyHold =
  | { code: "unassigned" }
  | { code: "not_runnable_profile"; assignee: string; known?: readonly string[] | null }
  | { code: "profile_cap_full"; assignee: string; running: number; max: number }
  | { code: "respawn_guard"; guard: RespawnGuardReason; until: number | null }
  | ({ code: "budget" } & BudgetHold)
  | { code: "host_cap_full"; running: number | null; max: number | null }
  | { code: "memory_floor"; available_mb: number | null; floor_mb: number | null }
  | {
      code: "no_host_for_labels";
      /** Every label the task requires, and those the claimer (or every connected host) lacks. */
      requires: readonly string[];
      missing: readonly string[];
      /** Whom the verdict is about: every connected host and local dispatcher, or one claimer's walk. */
      judged: "connected_hosts" | "this_claimer";
    };

export interface LaneRuleInput {
  /** The task's assignee, or the spawnable default one (null: neither). */
  assignee: string | null;
  isSpawnable: (profile: string) => boolean;
  /** Running tasks of that assignee (mind the walk's own claims), and the cap (null: none). */
  running: number;
  cap: number | null;
}

/**
 * The lane's rules before the respawn guard, in the lane's order: nobody assigned, an assignee no
 * worker can be started for, an assignee at its cap. Null: the guard decides.
 */
export function laneHold(i: LaneRuleInput): ReadyHold | null {
  if (i.assignee === null) return { code: "unassigned" };
  if (!i.isSpawnable(i.assignee)) return { code: "not_runnable_profile", assignee: i.assignee };
  if (i.cap !== null && i.running >= i.cap)
    return { code: "profile_cap_full", assignee: i.assignee, running: i.running, max: i.cap };
  return null;
}

export function guardHold(h: RespawnHold): ReadyHold {
  return { code: "respawn_guard", guard: h.reason, until: h.until };
}

const GUARD_WORDS: Record<RespawnGuardReason, string> = {
  infrastructure_cooldown:
    "its last spawn was refused by the host (worker program missing or not executable, no process or disk to spare), so it cools down before the next attempt (no failure was counted)",
  rate_limit_cooldown:
    "its last worker exited rate limited (exit 75), so it cools down before the next attempt (no failure was counted)",
  transient_cooldown:
    "its last worker failed on the provider or the network (a 5xx, a connection error, or exit 69), so it cools down before the next attempt, longer for each such failure in a row (no failure was counted)",
  respawn_jitter:
    "several runs failed the same way in one tick, so each waits its own share of a short spread before respawning (they would otherwise all hit the same wall again at once)",
  blocker_auth: "its last failure reads like an auth or quota problem that another attempt will not fix",
  recent_success: "it completed less than an hour ago and nothing reopened it (a second run would redo finished work)",
  active_pr: "a comment of the last day links a pull request that is still under way",
};

function ofN(running: number | null, max: number | null): string {
  return running !== null && max !== null ? ` (${running} of ${max})` : "";
}

/** The motion of a held ready task: the same sentence wherever the hold was decided. */
export function holdMotion(id: string, hold: ReadyHold, now: number): Motion {
  switch (hold.code) {
    case "unassigned":
      return {
        moving: false,
        code: "unassigned",
        line: "Ready, but nobody is assigned: the dispatcher only starts workers for assigned tasks.",
        next: `Assign a profile: kanban assign ${id} <profile>`,
        detail: {},
      };
    case "not_runnable_profile": {
      const known = hold.known ?? null;
      // The profiles go in `next`, not the line: the dispatcher's skip and `kanban why` print one sentence.
      const list = known === null ? "" : ` (here: ${known.length > 0 ? known.join(", ") : "none"})`;
      return {
        moving: false,
        code: "not_runnable_profile",
        line: `Assigned to @${hold.assignee}, which is not a runnable profile on this host: no worker will be started for it.`,
        next: `Reassign it to a profile that exists${list}: kanban reassign ${id} <profile>, or create profile ${hold.assignee}.`,
        detail: { assignee: hold.assignee, ...(known === null ? {} : { known_profiles: [...known] }) },
      };
    }
    case "profile_cap_full":
      return {
        moving: false,
        code: "profile_cap_full",
        line: `Held: @${hold.assignee} is at its cap (${hold.running} of ${hold.max} running).`,
        next: `It starts when one of @${hold.assignee}'s running tasks ends; or raise kanban.max_in_progress_per_profile.`,
        detail: { assignee: hold.assignee, running: hold.running, max: hold.max },
      };
    case "respawn_guard": {
      const until =
        hold.until === null ? "until someone acts" : `until ${clockTime(hold.until)} (in ${span(hold.until - now)})`;
      return {
        moving: false,
        code: "respawn_guard",
        line: `Held by the respawn guard (${hold.guard}), ${until}: ${GUARD_WORDS[hold.guard]}.`,
        next:
          hold.guard === "rate_limit_cooldown" || hold.guard === "transient_cooldown" || hold.guard === "respawn_jitter"
            ? "Nothing: it is retried by itself when the cooldown ends."
            : hold.guard === "infrastructure_cooldown"
              ? `Fix the host (install the worker program or put it on the dispatcher's PATH, free memory or disk; see the spawn_failed event: kanban show ${id}); it is retried by itself when the cooldown ends.`
              : hold.guard === "blocker_auth"
                ? `Fix the profile's credentials or quota, then reassign to clear the error (kanban reassign ${id} <profile>); otherwise it is tried again when the hold ends.`
                : hold.guard === "recent_success"
                  ? `Nothing, unless it really needs another run: then move it explicitly (kanban promote ${id}) or wait.`
                  : `Wait for the pull request, or hand it off (kanban reassign ${id} <profile>) to lift the guard.`,
        detail: { guard: hold.guard, until: hold.until },
      };
    }
    case "budget": {
      const { code: _code, ...detail } = hold;
      const what = hold.scope === "board" ? "the board's" : `${hold.scope} ${hold.key}'s`;
      const whose = hold.tenant ? ` (tenant ${hold.tenant})` : "";
      const when = hold.until === null ? "" : ", or it starts when the UTC day ends";
      return {
        moving: false,
        code: "budget_held",
        line: `Held: ${what} budget${whose} is spent (${formatMicroUsd(hold.spent_micro_usd)} of ${formatMicroUsd(hold.limit_micro_usd)}${hold.until === null ? "" : " today"}); no worker starts in that scope.`,
        next: `Allow more: kanban budget allow ${hold.scope}${hold.scope === "board" ? "" : ` ${hold.key}`} <usd>${when}.`,
        detail,
      };
    }
    case "host_cap_full":
      return {
        moving: false,
        code: "host_cap_full",
        line: `Held: this host already runs its maximum of workers${ofN(hold.running, hold.max)}.`,
        next: "It starts when a worker on this host finishes; or raise kanban.max_workers_host.",
        detail: { running: hold.running, max: hold.max },
      };
    case "no_host_for_labels": {
      const needs = hold.requires.join(", ");
      const who =
        hold.judged === "connected_hosts"
          ? "no connected host has them"
          : `this dispatcher does not offer ${hold.missing.join(", ")}`;
      return {
        moving: false,
        code: "no_host_for_labels",
        line: `Ready, but it needs a host with labels ${needs}; ${who}.`,
        next: `Start a host that offers them (kanban-dispatcher --server <url> --labels ${hold.requires.join(",")}), or change what it requires: kanban edit ${id} --requires <labels>`,
        detail: { requires: [...hold.requires], missing: [...hold.missing], judged: hold.judged },
      };
    }
    case "memory_floor": {
      const mem =
        hold.available_mb !== null && hold.floor_mb !== null
          ? ` (${hold.available_mb} MB available, floor ${hold.floor_mb} MB)`
          : "";
      return {
        moving: false,
        code: "memory_floor",
        line: `Held by memory admission: the host's available memory is under the floor${mem}.`,
        next: "It starts when memory frees up; or lower kanban.memory_floor_mb (or the profile's).",
        detail: { available_mb: hold.available_mb, floor_mb: hold.floor_mb },
      };
    }
  }
}
