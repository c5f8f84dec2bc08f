import { type BoardDelta, type BoardFilter, MAX_DELTA_IDS, scopeBoard, type TaskEvent } from "@kanban/kernel";
import { tracked } from "@trpc/server";
import { z } from "zod";
import { toTRPCError } from "../errors.ts";
import { boardWatcher, resumeAfter } from "../live/stream-start.ts";
import { streamEventBatches } from "../live/stream.ts";
import { hostFacts } from "../motion-facts.ts";
import { boardFilterFields, withBoard } from "../schemas.ts";
import { publicProcedure } from "../trpc.ts";

/**
 * A delta as a stream sends it: the view-wide lists (the attention rows, the filter lists) are null
 * when they are the same as in the stream's previous message, which is most bursts: on a busy board
 * they were most of every message's bytes.
 */
export type BoardDeltaMessage = Omit<BoardDelta, "attention" | "tenants" | "assignees"> & {
  attention: BoardDelta["attention"] | null;
  tenants: string[] | null;
  assignees: string[] | null;
};

/** What a viewer receives per burst of events. */
export interface BoardChange {
  /** The burst's events (for notifications and drawers), oldest first. */
  events: TaskEvent[];
  /**
   * How the view changed; null when the burst touched more cards than a delta carries
   * (MAX_DELTA_IDS): the viewer reads the board again instead.
   */
  delta: BoardDeltaMessage | null;
}

/** A delta with the keys its view-wide lists are compared by, computed once for every viewer. */
interface KeyedDelta {
  delta: BoardDelta;
  keys: { attention: string; tenants: string; assignees: string };
}

/** The ids a burst touches: each event's card, and the other end a link, an unlink or a delete names. */
export function touchedIds(events: readonly TaskEvent[]): string[] {
  const ids = new Set<string>();
  for (const e of events) {
    if (e.task_id) ids.add(e.task_id);
    const p = e.payload;
    if (p === null) continue;
    for (const end of [p.parent, p.child]) if (typeof end === "string") ids.add(end);
    if (e.kind === "deleted" && Array.isArray(p.linked))
      for (const id of p.linked) if (typeof id === "string") ids.add(id);
  }
  return [...ids];
}

/**
 * `board.changes`: a board view kept current by deltas (issue 19). After each burst of events it
 * sends the changed cards as `board.get` renders them (with this view's filters), the ids the view
 * no longer shows, and the view's column counts and attention rows, so a viewer never reads the
 * whole board again except after a gap. Viewers of the same view share one read per burst.
 * Resumes like `events.subscribe` (`after`, or the link's `lastEventId`); each message is tracked
 * with the id of the last event it covers.
 */
export const boardChanges = publicProcedure
  .input(
    z
      .object({
        ...withBoard,
        ...boardFilterFields,
        after: z.number().int().min(0).nullish(),
        lastEventId: z.string().max(32).nullish(),
      })
      .prefault({}),
  )
  .subscription(async function* ({ ctx, input, signal }) {
    let slug: string;
    const view = (): ReturnType<typeof scopeBoard> => scopeBoard(ctx.board(slug), { tenant: ctx.tenant });
    let batches: AsyncGenerator<TaskEvent[], void>;
    const filter: BoardFilter = {
      tenant: input.tenant,
      assignee: input.assignee,
      search: input.search?.trim() || null,
      workflow_template_id: input.workflow_template_id,
      current_step_key: input.current_step_key,
      include_archived: input.include_archived,
    };
    try {
      // Inside the try: an unknown board is NOT_FOUND, as on board.get, never an internal error.
      slug = ctx.slug(input.board);
      const board = view();
      const after = resumeAfter(input);
      batches = streamEventBatches({
        board: () => ctx.board(slug),
        watcher: boardWatcher(ctx, slug),
        after: after ?? (await board.latestEventId()),
        // Every event of the caller's scope: a card edited out of the view's filters must leave it.
        filter: { tenant: ctx.tenant },
        signal,
      });
    } catch (err) {
      throw toTRPCError(err, ctx.logger, "board.changes");
    }
    const viewKey = JSON.stringify([slug, ctx.tenant, filter]);
    // What this stream last sent of the view-wide lists (nothing yet: the first message has them all).
    const sent = { attention: "", tenants: "", assignees: "" };
    try {
      for await (const batch of batches) {
        const board = view();
        // A tenant's stream names no other tenant's task, even in an operator's cross-tenant link event.
        const events = await board.redactLinks(batch);
        const ids = touchedIds(events);
        const first = batch[0]?.id ?? 0;
        const last = batch[batch.length - 1]?.id ?? first;
        const keyed =
          ids.length > MAX_DELTA_IDS
            ? null
            : await ctx.live.deltas.get(viewKey, `${first}-${last}`, ids, async (read): Promise<KeyedDelta> => {
                // `read` holds this burst's ids, and those of the view's other bursts answered with it.
                const delta = await board.boardDelta(filter, read, {
                  knownProfiles: ctx.knownProfiles()?.names,
                  motionFacts: await hostFacts(ctx, slug),
                });
                const keys = {
                  attention: JSON.stringify([delta.attention_total, delta.attention]),
                  tenants: JSON.stringify(delta.tenants),
                  assignees: JSON.stringify(delta.assignees),
                };
                return { delta, keys };
              });
        const change: BoardChange = { events, delta: keyed === null ? null : unchangedLeftOut(keyed, sent) };
        yield tracked(String(last), change);
      }
    } catch (err) {
      throw toTRPCError(err, ctx.logger, "board.changes");
    }
  });

/** The delta as this stream sends it: each view-wide list only when it differs from what it last sent. */
function unchangedLeftOut(
  { delta, keys }: KeyedDelta,
  sent: { attention: string; tenants: string; assignees: string },
): BoardDeltaMessage {
  const out: BoardDeltaMessage = {
    ...delta,
    attention: keys.attention === sent.attention ? null : delta.attention,
    tenants: keys.tenants === sent.tenants ? null : delta.tenants,
    assignees: keys.assignees === sent.assignees ? null : delta.assignees,
  };
  Object.assign(sent, keys);
  return out;
}
