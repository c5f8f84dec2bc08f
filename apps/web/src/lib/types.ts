import type { BoardChange as ApiBoardChange, RouterOutputs } from "@kanban/api";
import type { CardMotion } from "./motion.ts";

/** What the board query returns: columns of cards plus tenants, assignees and the live cursor. */
export type BoardData = RouterOutputs["board"]["get"];
export type BoardColumnData = BoardData["columns"][number];
/**
 * A card; `motion` says why it is not moving (absent when it moves, and from a server older than issue 16);
 * `requires`, the host labels it needs (absent from a server older than issue 15).
 */
export type Card = BoardColumnData["tasks"][number] & { motion?: CardMotion | null; requires?: string[] };
export type TaskDetail = RouterOutputs["tasks"]["get"];
export type TaskEventData = TaskDetail["events"][number];
export type DiagnosticData = TaskDetail["diagnostics"][number];
/** A flagged task with every diagnostic in full, as diagnostics.list lists it (the strip's "show all"). */
export type FlaggedTask = RouterOutputs["diagnostics"]["list"]["diagnostics"][number];
/** One row of the attention strip, as board.get's `attention` carries it (the worst 100, compact). */
export type AttentionRow = BoardData["attention"][number];
export type Severity = DiagnosticData["severity"];
export type Profile = RouterOutputs["profiles"]["list"]["profiles"][number];
export type BoardSummary = RouterOutputs["boards"]["list"]["boards"][number];
export type DispatcherState = RouterOutputs["dispatcher"]["status"];
export type BulkResult = RouterOutputs["tasks"]["bulk"]["results"][number];
/** One remote host as `hosts.list` lists it (issue 15). */
export type HostRow = RouterOutputs["hosts"]["list"]["hosts"][number];
/** One message of `board.changes`: a burst's events and how the view changed (null: read the board again). */
export type BoardChange = ApiBoardChange;
export type BoardDelta = NonNullable<BoardChange["delta"]>;
