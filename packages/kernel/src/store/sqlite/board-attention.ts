import type { BoardContext } from "../../context.ts";
import { boardDiagnostics, type TaskDiagnostics, worstFirst } from "../../diagnostics.ts";

/**
 * How long (seconds of the board's clock) a scope's board-wide judgement is kept for live deltas.
 * Events name every task a write touched, and a task's diagnostics depend only on its own row, runs,
 * events and comments, so between full judgements a delta judges just the tasks it touched. What
 * no event announces is time passing (a ready card becomes stranded, a lease expires): a kept
 * judgement is redone from scratch once it is this old, so such a change shows at most this late.
 */
export const ATTENTION_KEPT_SECONDS = 2;

/** Scopes kept per board (tenant × known profiles × failure limit); the oldest is dropped first. */
const MAX_SCOPES = 32;

interface Judged {
  /** When the board-wide judgement was made (board clock, seconds); 0 before the first. */
  at: number;
  flagged: TaskDiagnostics[];
  /** Steps of one scope run one after another: a later step's merge never loses an earlier one's. */
  tail: Promise<unknown>;
}

const judgedBy = new WeakMap<BoardContext, Map<string, Judged>>();

export interface AttentionScope {
  failureLimit?: number;
  knownProfiles?: readonly string[] | null;
  tenant: string | null;
  onRun?: () => void;
}

/**
 * The board's flagged tasks, worst first, as `boardDiagnostics` answers them, for a live delta
 * after writes that touched `touched`: the scope's kept judgement with those tasks judged again,
 * or a board-wide judgement when none is kept or it is older than {@link ATTENTION_KEPT_SECONDS}.
 * On a board with thousands of flagged cards (a removed profile's ready work) the board-wide
 * judgement costs ~100 ms, which every delta of every view used to pay.
 */
export async function boardAttention(
  ctx: BoardContext,
  touched: readonly string[],
  scope: AttentionScope,
): Promise<TaskDiagnostics[]> {
  const judging = {
    failureLimit: scope.failureLimit,
    knownProfiles: scope.knownProfiles,
    tenant: scope.tenant,
    onRun: scope.onRun,
  };
  let scopes = judgedBy.get(ctx);
  if (scopes === undefined) {
    scopes = new Map();
    judgedBy.set(ctx, scopes);
  }
  const key = JSON.stringify([scope.tenant, scope.failureLimit ?? null, scope.knownProfiles ?? null]);
  let held = scopes.get(key);
  if (held === undefined) {
    held = { at: 0, flagged: [], tail: Promise.resolve() };
    scopes.set(key, held);
    const oldest = scopes.keys().next().value;
    if (scopes.size > MAX_SCOPES && oldest !== undefined) scopes.delete(oldest);
  }
  const entry = held;
  const step = entry.tail.then(async () => {
    const now = ctx.now();
    // A clock that went back (a test's, or a host's corrected) makes the kept judgement untrustworthy too.
    if (entry.at === 0 || now - entry.at >= ATTENTION_KEPT_SECONDS || now < entry.at) {
      entry.flagged = await boardDiagnostics(ctx, judging);
      entry.at = now;
      return entry.flagged;
    }
    const ids = new Set(touched);
    if (ids.size === 0) return entry.flagged;
    const fresh = await boardDiagnostics(ctx, { ...judging, taskIds: [...ids] });
    entry.flagged = worstFirst([...entry.flagged.filter((f) => !ids.has(f.task_id)), ...fresh]);
    return entry.flagged;
  });
  entry.tail = step.catch(() => {});
  return await step;
}
