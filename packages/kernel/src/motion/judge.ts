import { DEFAULT_CRASH_GRACE_SECONDS, STALE_HEARTBEAT_GAP_SECONDS } from "../constants.ts";
import type { ReviveVerdict } from "../auto-revive.ts";
import { parseJsonObject } from "../rows.ts";
import type { Task } from "../types.ts";
import { holdMotion, type ReadyHold } from "./holds.ts";
import type { HostFacts, Motion } from "./types.ts";
import { clockTime, firstLine, plural, span } from "./words.ts";

/** A running worker silent for this long is called quiet (the card says so before it goes stale). */
export const QUIET_HEARTBEAT_SECONDS = 10 * 60;
/** A lease that ends within this is called expiring. */
export const LEASE_WARNING_SECONDS = 120;

export interface ParentRef {
  id: string;
  title: string;
  status: string;
}

/** What the reads found about one task beyond its row (explain.ts fills it). */
export interface TaskFacts {
  /** Unfinished parents the caller may see, and how many it may not. */
  parents: ParentRef[];
  hiddenParents: number;
  /** The newest blocking/scheduling events, newest first (kinds blocked, gave_up, scheduled). */
  parkEvents: { kind: string; payload: string | null; created_at: number }[];
  /** The ready lane's decision for a ready task (from holds.ts), or null when it would be taken. */
  readyHold: ReadyHold | null;
  /** When the current attempt started (its run), for a running task. */
  attemptStartedAt: number | null;
  /** The board's breaker limit for this task (its own max_retries wins). */
  failureLimit: number;
  /** Whether the claim was taken on this host (so its pid can be probed here). */
  hostLocal: boolean;
  /** For a blocked task: when the auto-revive puts it back, or that its revives are used up (absent: neither). */
  revive?: ReviveVerdict | null;
  /** For a card in review: the gate its completion waits at (gates.ts), absent when it is no gated round. */
  gateStage?: "commands" | "reviewer" | "approval" | null;
}

/** The auto-revive's part of a breaker-blocked card's sentence, and its facts. */
function reviveWords(
  v: ReviveVerdict | null | undefined,
  now: number,
): { line: string; detail: Record<string, unknown> } {
  if (!v) return { line: "", detail: {} };
  if (v.state === "exhausted")
    return {
      line: ` — no more automatic revives (${v.revives} of ${v.max} used).`,
      detail: { auto_revive: { state: "exhausted", revives: v.revives, max: v.max } },
    };
  const when = v.due_at <= now ? "at the next tick" : `${clockTime(v.due_at)} (in ${span(v.due_at - now)})`;
  return {
    line: ` — held: auto_revive at ${when}, revive ${v.attempt} of ${v.max}.`,
    detail: {
      auto_revive: {
        state: "pending",
        at: v.due_at,
        attempt: v.attempt,
        max: v.max,
        cooldown_seconds: v.cooldown_seconds,
      },
    },
  };
}

function ago(now: number, at: number): string {
  return `${span(now - at)} ago`;
}

function parentWords(f: TaskFacts): string {
  const named = f.parents.map((p) => `"${firstLine(p.title, 60)}" (${p.id}, ${p.status})`);
  if (f.hiddenParents > 0)
    named.push(plural(f.hiddenParents, "parent outside this scope", "parents outside this scope"));
  return named.join(", ");
}

function payloadOf(e: { payload: string | null } | undefined): Record<string, unknown> {
  return e ? (parseJsonObject(e.payload) ?? {}) : {};
}

function blockedMotion(task: Task, f: TaskFacts, now: number): Motion {
  const newest = f.parkEvents.find((e) => e.kind === "blocked" || e.kind === "gave_up");
  const p = payloadOf(newest);
  const limit = f.failureLimit;
  const tripped =
    newest?.kind === "gave_up" ||
    p.source === "circuit_breaker" ||
    (newest === undefined && task.consecutive_failures >= limit);
  const since = newest ? `, since ${ago(now, newest.created_at)}` : "";
  if (tripped) {
    const error = firstLine(task.last_failure_error ?? (typeof p.error === "string" ? p.error : null));
    const revive = reviveWords(f.revive, now);
    return {
      moving: false,
      code: "breaker_tripped",
      line: `Breaker tripped after ${plural(task.consecutive_failures, "failure")} in a row (limit ${limit})${since}${error ? `: ${error}` : "."}${revive.line}`,
      next:
        f.revive?.state === "pending"
          ? `Nothing, if the cause passes: it goes back to ready by itself at the revive time; or fix the cause and kanban unblock ${task.id}.`
          : `Read why (kanban log ${task.id}), fix the cause, then kanban unblock ${task.id}; or reassign it.`,
      detail: {
        consecutive_failures: task.consecutive_failures,
        failure_limit: limit,
        last_error: task.last_failure_error,
        since: newest?.created_at ?? null,
        ...revive.detail,
      },
    };
  }
  const reason = typeof p.reason === "string" && p.reason.trim() !== "" ? firstLine(p.reason) : null;
  return {
    moving: false,
    code: "blocked",
    line: `Blocked${since}${reason ? `: ${reason}` : " (no reason given)."}`,
    // A budget's pause (budgets.ts) waits for money, not for an answer.
    next:
      p.kind === "budget"
        ? "It resumes once its budget has room: allow more (kanban budget allow, as the reason says); a daily budget's pause also ends with the UTC day."
        : `Answer in a comment, then kanban unblock ${task.id}.`,
    // The block's kind (`budget`, `needs_input`, …): a client offers the matching action.
    detail: { reason, kind: typeof p.kind === "string" ? p.kind : null, since: newest?.created_at ?? null },
  };
}

function scheduledMotion(task: Task, f: TaskFacts, now: number): Motion {
  const e = f.parkEvents.find((x) => x.kind === "scheduled");
  const p = payloadOf(e);
  const reason = typeof p.reason === "string" && p.reason.trim() !== "" ? firstLine(p.reason) : null;
  return {
    moving: false,
    code: "scheduled",
    line: `Scheduled for later${e ? ` (${ago(now, e.created_at)})` : ""}${reason ? `: ${reason}` : "."}`,
    next: `It waits until someone brings it back: kanban unblock ${task.id}.`,
    detail: { reason, since: e?.created_at ?? null },
  };
}

function readyMotion(task: Task, f: TaskFacts, facts: HostFacts, now: number): Motion {
  if (f.readyHold !== null) return holdMotion(task.id, f.readyHold, now);
  if (facts.dispatcher && !facts.dispatcher.alive) {
    return {
      moving: false,
      code: "no_dispatcher",
      line: "Ready, but no dispatcher is running for this board: nothing will start a worker.",
      next: "Start one (npm start, or kanban dispatcher on this machine); it is taken at the first tick.",
      detail: {},
    };
  }
  const interval = facts.dispatcher?.interval_seconds ?? null;
  return {
    moving: true,
    code: "ready_waiting_for_tick",
    line: `Ready${task.assignee ? ` for @${task.assignee}` : ""}: the dispatcher takes it at its next tick${interval ? ` (every ${span(interval)})` : ""}.`,
    next: "Nothing; kanban dispatch runs a tick now.",
    detail: { interval_seconds: interval },
  };
}

function runningMotion(task: Task, f: TaskFacts, facts: HostFacts, now: number): Motion {
  const started = f.attemptStartedAt ?? task.started_at ?? now;
  const heartbeat = task.last_heartbeat_at;
  const lastSign = heartbeat ?? started;
  const quietFor = now - lastSign;
  const probe = facts.isPidAlive ?? null;
  // The sample of this run's worker: a sample of the task's previous run is not this worker's.
  const footprint =
    facts.footprints?.find(
      (fp) => fp.task_id === task.id && (fp.run_id === null || fp.run_id === task.current_run_id),
    ) ?? null;
  const detail: Record<string, unknown> = {
    pid: task.worker_pid,
    claim_lock: task.claim_lock,
    claim_expires: task.claim_expires,
    last_heartbeat_at: heartbeat,
    attempt_started_at: started,
    run_id: task.current_run_id,
    ...(footprint ? { footprint } : {}),
  };
  const who = `by ${task.claim_lock ?? "an unknown claimer"}`;
  if (task.worker_pid === null && heartbeat === null && now - started > DEFAULT_CRASH_GRACE_SECONDS) {
    const lease =
      task.claim_expires === null
        ? ""
        : ` Its lease ends ${task.claim_expires > now ? `in ${span(task.claim_expires - now)}` : `${span(now - task.claim_expires)} ago`}.`;
    return {
      moving: false,
      code: "claimed_not_spawned",
      line: `Claimed ${ago(now, started)} ${who}, but no worker was ever started for it.${lease}`,
      next: `The claim is given back when its lease ends; to retry now: kanban reclaim ${task.id}`,
      detail,
    };
  }
  if (task.worker_pid !== null && f.hostLocal && probe !== null && !probe(task.worker_pid)) {
    const nobody = facts.dispatcher && !facts.dispatcher.alive ? " No dispatcher is running to notice." : "";
    return {
      moving: false,
      code: "running_orphaned",
      line: `Orphaned: its worker (pid ${task.worker_pid}) is gone, but the task is still claimed.${nobody}`,
      next: `The dispatcher's next tick records the crash and requeues it; or now: kanban reclaim ${task.id}`,
      detail,
    };
  }
  if (quietFor > STALE_HEARTBEAT_GAP_SECONDS) {
    return {
      moving: false,
      code: "running_stale",
      line: `Stale: ${heartbeat === null ? "no heartbeat since it started" : "no heartbeat"} ${span(quietFor)} ago${task.worker_pid !== null ? ` (pid ${task.worker_pid})` : ""}; the dispatcher requeues it once its stale timeout passes.`,
      next: `Read its log (kanban log ${task.id}); if it is stuck: kanban reclaim ${task.id}`,
      detail,
    };
  }
  if (quietFor > QUIET_HEARTBEAT_SECONDS) {
    return {
      moving: false,
      code: "running_quiet",
      line: `Running but quiet: no heartbeat for ${span(quietFor)}${task.worker_pid !== null ? ` (pid ${task.worker_pid}${probe !== null && f.hostLocal ? " alive" : ""})` : ""}.`,
      next: `See what it is doing: kanban log ${task.id}`,
      detail,
    };
  }
  if (task.claim_expires !== null && task.claim_expires - now <= LEASE_WARNING_SECONDS) {
    const left = task.claim_expires - now;
    return {
      moving: false,
      code: "lease_expiring",
      line:
        left > 0
          ? `Running, but its lease expires in ${span(left)} (at ${clockTime(task.claim_expires)}) unless the worker renews it.`
          : `Running, but its lease expired ${span(-left)} ago: the next tick extends it if the worker is alive, else reclaims it.`,
      next: `A heartbeat renews it (kanban heartbeat ${task.id} from the worker); otherwise it is reclaimed.`,
      detail,
    };
  }
  const beat = heartbeat === null ? "no heartbeat yet" : `last heartbeat ${ago(now, heartbeat)}`;
  const lease = task.claim_expires === null ? "" : `, lease for ${span(task.claim_expires - now)}`;
  return {
    moving: true,
    code: "running_healthy",
    line: `Running${task.assignee ? ` as @${task.assignee}` : ""}${task.worker_pid !== null ? ` (pid ${task.worker_pid})` : ""} for ${span(now - started)}: ${beat}${lease}.`,
    next: `Nothing; follow it with kanban tail ${task.id}`,
    detail,
  };
}

/** The motion of one task from its row, the facts read about it and the host's facts, at `now`. */
export function judgeMotion(task: Task, f: TaskFacts, facts: HostFacts, now: number): Motion {
  switch (task.status) {
    case "todo":
    case "ready":
      if (f.parents.length + f.hiddenParents > 0) {
        const n = f.parents.length + f.hiddenParents;
        return {
          moving: false,
          code: "waiting_on_parents",
          line: `Waiting on ${plural(n, "parent")}: ${parentWords(f)}.`,
          next: "It becomes ready by itself when they are done (or archived); finish or unlink them.",
          detail: { parents: f.parents, hidden_parents: f.hiddenParents },
        };
      }
      if (task.status === "todo") {
        return {
          moving: false,
          code: "in_todo",
          line: "In Todo with no unfinished parents: it waits for a person to move it to Ready.",
          next: `Promote it: kanban promote ${task.id}`,
          detail: {},
        };
      }
      if (task.claim_lock !== null) return runningMotion(task, f, facts, now);
      return readyMotion(task, f, facts, now);
    case "running":
      return runningMotion(task, f, facts, now);
    case "blocked":
      return blockedMotion(task, f, now);
    case "scheduled":
      return scheduledMotion(task, f, now);
    case "triage":
      return {
        moving: false,
        code: "in_triage",
        line: "In Triage: it waits for a person to decide what it is and who does it.",
        next: `Give it an assignee and promote it: kanban assign ${task.id} <profile>`,
        detail: {},
      };
    case "review":
      return reviewMotion(task, f.gateStage ?? null, facts);
    case "done":
      return {
        moving: false,
        code: "done",
        line: `Done${task.completed_at !== null ? ` ${ago(now, task.completed_at)}` : ""}.`,
        next: "Nothing.",
        detail: { completed_at: task.completed_at },
      };
    case "archived":
      return { moving: false, code: "archived", line: "Archived.", next: "Nothing.", detail: {} };
    default:
      return {
        moving: false,
        code: "unknown_status",
        line: `Status '${task.status}' is not one this version knows (written by a newer Hermes?).`,
        next: `Move it to a known column on the board, or: kanban promote ${task.id}`,
        detail: { status: task.status },
      };
  }
}

/** A card in review: a reviewer's verdict, or (a gated completion) the gate it waits at. */
function reviewMotion(task: Task, stage: "commands" | "reviewer" | "approval" | null, facts: HostFacts): Motion {
  if (stage === "commands") {
    const down = facts.dispatcher !== undefined && facts.dispatcher !== null && !facts.dispatcher.alive;
    return {
      moving: !down,
      code: "in_review",
      line: `In Review: its completion is being checked; the dispatcher runs its acceptance commands in its workspace.${down ? " No dispatcher is running to run them." : ""}`,
      next: `Wait for the verdict, or read the evidence: kanban gates show ${task.id}`,
      detail: { gate_stage: stage },
    };
  }
  if (stage === "approval")
    return {
      moving: false,
      code: "in_review",
      line: "In Review: its other gates passed and it waits for a person's approval.",
      next: `Approve it on the board or with: kanban review approve ${task.id}`,
      detail: { gate_stage: stage },
    };
  return {
    moving: false,
    code: "in_review",
    line: `In Review: the work is handed in and waits for ${task.assignee ? `its reviewer ${task.assignee}` : "a reviewer"}'s verdict.`,
    next: `Review it (kanban show ${task.id}), then complete it or request changes.`,
    detail: stage === null ? {} : { gate_stage: stage },
  };
}
