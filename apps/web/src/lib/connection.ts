import type { LiveStatus } from "./live.ts";

/**
 * How the board knows the server is there: the live event stream, plus a poll of `config.get`
 * every few seconds (and at once whenever the stream drops). A stream can look open for a while
 * after a server stops (a graceful shutdown keeps open connections), and a dropped stream alone
 * says nothing about why: the probe settles it.
 */
export const PROBE_INTERVAL_MS = 5000;

/** How long the first board load may take before the page says it is still waiting, and why. */
export const SLOW_LOAD_MS = 6000;

export type Probe = "unknown" | "ok" | "down";

/** The last answer of the probe: a successful fetch is "ok", a failure without any HTTP answer is "down". */
export function probeOf(q: { isSuccess: boolean; isError: boolean; error: unknown }, status: number | null): Probe {
  if (q.isError) return status === null ? "down" : "ok"; // any HTTP answer means the server is there
  return q.isSuccess ? "ok" : "unknown";
}

/** What the toolbar's indicator says: the stream's state, but never "live" while the probe fails. */
export function indicatorStatus(stream: LiveStatus, probe: Probe): LiveStatus {
  return probe === "down" ? "offline" : stream;
}

export interface LoadProblem {
  kind: "unreachable" | "server" | "slow" | "config";
  title: string;
  detail: string;
}

/** The first thing to check, whatever went wrong: the process that serves the board. */
const START_HINT =
  "Check the terminal where `npm start` runs: it says which part stopped and why. Start it again with `npm start` if it is not running. This page keeps retrying on its own.";

/**
 * What the board area says when there is no board to show yet: never an endless "Loading…".
 * `status` is the HTTP status of the failure (null = no HTTP answer at all).
 */
export function loadProblem(input: {
  error: unknown;
  status: number | null;
  message: string;
  waitedMs: number;
  probe: Probe;
  /** config.json's error, when the server reports one (shown in its own banner). */
  configError?: string | null;
}): LoadProblem | null {
  if (input.error) {
    if (input.status === null || input.probe === "down") {
      return { kind: "unreachable", title: "Cannot reach the Kanban server", detail: START_HINT };
    }
    if (input.configError && input.status >= 500) {
      return {
        kind: "config",
        title: "The board cannot load while config.json is invalid",
        detail: "Fix the file (its error is shown above); this page loads the board by itself once it is valid.",
      };
    }
    if (input.status >= 500)
      return {
        kind: "server",
        title: "The server could not load the board",
        detail: `${input.message}. ${START_HINT}`,
      };
    return null; // a 4xx is the board's own business (a board that does not exist, a token): shown as such
  }
  if (input.probe === "down")
    return { kind: "unreachable", title: "Cannot reach the Kanban server", detail: START_HINT };
  if (input.waitedMs >= SLOW_LOAD_MS) {
    return {
      kind: "slow",
      title: "Still waiting for the server…",
      detail: `The board has not answered for ${Math.round(input.waitedMs / 1000)} s. ${START_HINT}`,
    };
  }
  return null;
}
