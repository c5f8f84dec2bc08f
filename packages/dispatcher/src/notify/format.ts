import { type NotifyMessage, taskLink } from "@kanban/notify";

/**
 * The event kinds a subscription is told about: Hermes B's terminal kinds plus this board's own
 * incident, revive and protocol-violation events (issue 17). Every other kind (heartbeats, comments,
 * claims...) only moves the cursor past it.
 */
export const NOTIFY_EVENT_KINDS: readonly string[] = [
  "completed",
  "blocked",
  "gave_up",
  "crashed",
  "timed_out",
  "status",
  "archived",
  "unblocked",
  "block_loop_detected",
  "review_requested",
  "changes_requested",
  "verification_started",
  "gate_failed",
  "approval_requested",
  "incident_opened",
  "incident_closed",
  "auto_revived",
  "auto_revive_exhausted",
  "protocol_violation",
];

/** The kinds after which the card waits for a person: their messages are marked "needs you". */
export const NEEDS_YOU_KINDS: readonly string[] = [
  "blocked",
  "gave_up",
  "block_loop_detected",
  "incident_opened",
  "review_requested",
  "approval_requested",
  "auto_revive_exhausted",
];

export interface FormatInput {
  board: string;
  task: { id: string; title: string; status: string | null; assignee: string | null };
  event: { id: number; kind: string; created_at: number; payload: Record<string, unknown> | null };
  /** `kanban.public_url`: where the card's link points (none without it). */
  publicUrl: string | null;
}

const REASON_MAX = 200;

/** The first non-empty line of a text, cut to `max`. */
function firstLine(value: unknown, max = REASON_MAX): string | null {
  if (typeof value !== "string") return null;
  const line = value
    .split("\n")
    .map((l) => l.trim())
    .find((l) => l !== "");
  if (!line) return null;
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** The first of the payload's fields that holds some text. */
function pick(payload: Record<string, unknown> | null, ...fields: string[]): string | null {
  for (const f of fields) {
    const v = firstLine(payload?.[f]);
    if (v !== null) return v;
  }
  return null;
}

interface Parts {
  what: string;
  why: string | null;
  next: string | null;
}

function parts(kind: string, p: Record<string, unknown> | null, taskId: string): Parts {
  const unblock = `\`kanban unblock ${taskId}\``;
  switch (kind) {
    case "completed":
      return {
        what: "done",
        why: pick(p, "summary", "result"),
        next: "Nothing is waiting; read the result on the card.",
      };
    case "blocked": {
      const breaker = p?.source === "circuit_breaker";
      return {
        what: breaker ? "blocked after repeated failures" : "blocked",
        why: pick(p, "reason") ?? "no reason given",
        next: breaker
          ? `Fix the cause (profile, credentials, host), then ${unblock}.`
          : `Answer on the card (a comment), then ${unblock}.`,
      };
    }
    case "gave_up":
      return {
        what: "gave up after repeated failures",
        why: pick(p, "error", "reason") ?? "the failure limit was reached",
        next: `Fix what keeps failing, then ${unblock} to try again.`,
      };
    case "crashed":
      return {
        what: "worker crashed",
        why: pick(p, "error", "reason") ?? "the worker process ended without reporting",
        next: "Nothing yet: the dispatcher retries it.",
      };
    case "timed_out": {
      const limit = typeof p?.max_runtime_seconds === "number" ? ` (max_runtime ${p.max_runtime_seconds}s)` : "";
      return {
        what: `timed out${limit}`,
        why: pick(p, "reason", "error") ?? "the run went past its time limit",
        next: "The dispatcher retries it; raise its max_runtime if it needs longer.",
      };
    }
    case "status":
      return {
        what: `moved to ${typeof p?.status === "string" ? p.status : "a new status"}`,
        why: typeof p?.from === "string" ? `it was ${p.from}` : null,
        next: null,
      };
    case "archived":
      return { what: "archived", why: null, next: "This is the last message about this card." };
    case "unblocked":
      return { what: "unblocked", why: null, next: "The dispatcher will pick it up again." };
    case "block_loop_detected":
      return {
        what: "sent to triage: blocked again for the same cause",
        why: pick(p, "reason", "block_kind"),
        next: "A person has to decide: change the task, reassign it or archive it.",
      };
    case "review_requested":
      return {
        what: "ready for review",
        why: pick(p, "summary", "reason"),
        next: "Review it: approve it, or request changes.",
      };
    case "changes_requested": {
      const who = typeof p?.reviewer === "string" ? ` by @${p.reviewer}` : "";
      return {
        what: `changes requested${who}`,
        why: pick(p, "reason", "summary"),
        next: "The implementer reworks it; nothing to do unless you disagree.",
      };
    }
    case "verification_started": {
      const gates = Array.isArray(p?.gates) ? p.gates.filter((g): g is string => typeof g === "string") : [];
      return {
        what: "handed in; its completion gates run now",
        why: gates.length > 0 ? `gates: ${gates.join(", ")}` : null,
        next: "Nothing yet: it is done once every gate passes, or goes back to its implementer with the evidence.",
      };
    }
    case "gate_failed": {
      const failed = Array.isArray(p?.failed) ? p.failed.filter((g): g is string => typeof g === "string") : [];
      return {
        what: "sent back: its acceptance commands failed",
        why: failed.length > 0 ? `failed: ${failed.join(", ")}` : null,
        next: "The implementer reworks it with the failing output; nothing to do unless it keeps failing.",
      };
    }
    case "approval_requested":
      return {
        what: "passed its checks and waits for your approval",
        why: null,
        next: `Approve it on the board, or \`kanban review approve ${taskId}\`; reopen it to send it back.`,
      };
    case "incident_opened": {
      const scope = typeof p?.scope === "string" ? `${p.scope}${p.scope_key ? ` ${String(p.scope_key)}` : ""}` : null;
      const failures = typeof p?.failures === "number" ? `${p.failures} runs` : "several runs";
      const cls = typeof p?.failure_class === "string" ? ` (${p.failure_class})` : "";
      return {
        what: "is caught in an incident: several runs failed the same way",
        why: pick(p, "summary", "reason") ?? `${failures}${scope ? ` of ${scope}` : ""} failed the same way${cls}`,
        next: "New runs there are paused until a probe run succeeds; fix the cause, or resume it on the board.",
      };
    }
    case "incident_closed":
      return {
        what: "incident over",
        why: typeof p?.closed_by === "string" ? `closed by ${p.closed_by}` : pick(p, "summary", "reason"),
        next: "Nothing: paused work resumes by itself.",
      };
    case "auto_revived": {
      const attempt =
        typeof p?.attempt === "number" && typeof p?.max === "number" ? ` (revive ${p.attempt} of ${p.max})` : "";
      const after = typeof p?.trigger_outcome === "string" ? ` after ${p.trigger_outcome.replace(/_/g, " ")}` : "";
      return {
        what: `revived automatically${attempt}`,
        why: pick(p, "reason") ?? `the breaker had blocked it${after}, a cause that usually passes`,
        next: "Nothing: it is queued again.",
      };
    }
    case "auto_revive_exhausted":
      return {
        what: "stays blocked: automatic revives used up",
        why: pick(p, "reason"),
        next: `Find out why it keeps failing, then \`kanban unblock ${taskId}\`.`,
      };
    case "protocol_violation":
      return {
        what: "worker exited without reporting a result",
        why: pick(p, "last_output", "output", "error", "reason"),
        next: "Retried once; if it happens again the card is blocked with this explanation.",
      };
    default:
      return { what: kind.replace(/_/g, " "), why: pick(p, "reason", "summary", "error"), next: null };
  }
}

const ICON: Record<string, string> = {
  completed: "✔",
  blocked: "⏸",
  gave_up: "✖",
  crashed: "✖",
  timed_out: "⏱",
  status: "🔄",
  archived: "🗄",
  unblocked: "▶",
  block_loop_detected: "🛑",
  review_requested: "👀",
  changes_requested: "✏",
  verification_started: "🔎",
  gate_failed: "✏",
  approval_requested: "👀",
  incident_opened: "🚨",
  incident_closed: "✅",
  auto_revived: "♻",
  auto_revive_exhausted: "🛑",
  protocol_violation: "⚠",
};

/** One event as a message: what happened (headline), why, and what to do next, with the card's link. */
export function formatEvent(input: FormatInput): NotifyMessage {
  const { board, task, event } = input;
  const p = parts(event.kind, event.payload, task.id);
  const who = task.assignee ? ` @${task.assignee}` : "";
  const title = task.title.length > 120 ? `${task.title.slice(0, 119)}…` : task.title;
  const headline = `${ICON[event.kind] ?? "•"} [${board}]${who} ${task.id} ${p.what} — ${title}`;
  const lines = [headline];
  if (p.why) lines.push(`Why: ${p.why}`);
  if (p.next) lines.push(`Next: ${p.next}`);
  return {
    board,
    task,
    event: { id: event.id, kind: event.kind, created_at: event.created_at, payload: event.payload },
    headline,
    text: lines.join("\n"),
    needs_you: NEEDS_YOU_KINDS.includes(event.kind),
    link: taskLink(input.publicUrl, board, task.id),
  };
}
