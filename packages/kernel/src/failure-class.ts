import { RATE_LIMIT_EXIT_CODE, TRANSIENT_EXIT_CODE } from "./constants.ts";

/**
 * The classes a badly-ended run falls into (issue 17). Each has its own budget and backoff:
 * `rate_limited` and `transient` (a provider 5xx, a network failure) and `infrastructure` (a spawn
 * the host refused) are never counted towards the breaker and cool down in the respawn guard;
 * `crashed`, `timed_out`, `protocol_violation`, `spawn_failed` and `gate_failed` (a completion whose
 * acceptance commands failed, gates.ts) are counted.
 */
export type FailureClass =
  | "rate_limited"
  | "transient"
  | "infrastructure"
  | "crashed"
  | "timed_out"
  | "protocol_violation"
  | "spawn_failed"
  | "gate_failed";

export const FAILURE_CLASSES: readonly FailureClass[] = [
  "rate_limited",
  "transient",
  "infrastructure",
  "crashed",
  "timed_out",
  "protocol_violation",
  "spawn_failed",
  "gate_failed",
];

/** Classes that are never counted towards the breaker: the world failed, not the task. */
export const UNCOUNTED_FAILURE_CLASSES: ReadonlySet<FailureClass> = new Set([
  "rate_limited",
  "transient",
  "infrastructure",
]);

// Each pattern names one way a provider or the network fails for a while. Status codes alone are
// too common in worker output (a line number, a count), so a 5xx needs a word next to it that says
// it is an HTTP status or a server error.
const TRANSIENT_PATTERNS: readonly RegExp[] = [
  /\b(?:http|status|status[\s_-]?code|error|server|response|code)\W{0,3}(?:500|502|503|504|529)\b/i,
  /\b(?:500|502|503|504|529)\W{0,3}(?:internal server error|bad gateway|service unavailable|gateway timeout|overloaded|server error)\b/i,
  /\boverloaded(?:_error)?\b/i,
  /\bservice[\s_-]unavailable\b/i,
  /\bbad[\s_-]gateway\b/i,
  /\bgateway[\s_-]time-?out\b/i,
  /\b(?:ECONNRESET|ECONNREFUSED|ETIMEDOUT|EAI_AGAIN|ENOTFOUND|EPIPE|ENETUNREACH|EHOSTUNREACH)\b/,
  /\bsocket hang up\b/i,
  /\bnetwork[\s_-]error\b/i,
  /\bconnection (?:reset|refused|timed out)\b/i,
];

/**
 * Whether a failure's text (its error, the worker's last output) reads like a provider or network
 * failure that passes by itself: an HTTP 5xx/529 named as a status or server error, "overloaded",
 * "service unavailable", "bad gateway", "gateway timeout", a socket error code (ECONNRESET,
 * ECONNREFUSED, ETIMEDOUT, EAI_AGAIN, ENOTFOUND...), "socket hang up", "network error",
 * "connection reset". Case-insensitive except for the error codes, which are upper case by
 * convention (a lower-case "enotfound" is more likely a word in prose).
 */
export function isTransientFailureText(text: string | null | undefined): boolean {
  if (!text) return false;
  return TRANSIENT_PATTERNS.some((p) => p.test(text));
}

/** The class a worker's exit code alone decides: 75 rate limited, 69 transient, 0 a violation (while still running). */
export function exitCodeClass(
  code: number | null | undefined,
  codes: { rateLimit?: number; transient?: number } = {},
): FailureClass | null {
  if (code === 0) return "protocol_violation";
  if (code === (codes.rateLimit ?? RATE_LIMIT_EXIT_CODE)) return "rate_limited";
  if (code === (codes.transient ?? TRANSIENT_EXIT_CODE)) return "transient";
  return null;
}

/** The facts of an ended run that classify it (a `task_runs` row has them all). */
export interface ClassifiedRun {
  outcome: string | null;
  status?: string | null;
  error?: string | null;
  metadata?: Record<string, unknown> | null;
}

/**
 * The failure class of an ended run, or null when it did not end badly (completed, blocked,
 * scheduled, review...) or ended by a person's or the recovery's hand (reclaimed, stale, gave_up
 * closing a spawn). A `failure_class` in the run's metadata wins (every run the kernel books
 * badly carries one); older runs are classified from their outcome and metadata markers.
 */
export function failureClassOf(run: ClassifiedRun): FailureClass | null {
  const stored = run.metadata?.failure_class;
  if (typeof stored === "string" && (FAILURE_CLASSES as readonly string[]).includes(stored))
    return stored as FailureClass;
  switch (run.outcome) {
    case "rate_limited":
      return "rate_limited";
    case "timed_out":
      return "timed_out";
    case "spawn_failed":
      return run.metadata?.infrastructure === true ? "infrastructure" : "spawn_failed";
    case "crashed":
      if (run.metadata?.protocol_violation === true) return "protocol_violation";
      if (run.metadata?.transient === true) return "transient";
      return "crashed";
    default:
      return null;
  }
}
