import { describe, expect, it } from "vitest";
import { DEFAULT_STRANDED_THRESHOLD_SECONDS } from "../../diagnostics.ts";
import { useTestBoards } from "../../testing/helpers.ts";
import { ATTENTION_KEPT_SECONDS } from "./board-attention.ts";

// A live delta's attention list: the cards a burst touched are judged again at once, the rest of the
// board's judgement is kept for ATTENTION_KEPT_SECONDS of the board's clock, then made again in full
// (what no event announces, time passing, shows at most that late).

const board = useTestBoards();
const known = { knownProfiles: ["coder"], scopeTenant: null };

function flaggedIds(delta: { attention: { task_id: string }[] }): string[] {
  return delta.attention.map((r) => r.task_id).sort();
}

describe("the attention list of a live delta", () => {
  it("judges the touched cards again and keeps the rest of the board's judgement until it is too old", async () => {
    const runs = { n: 0 };
    const b = board({ onDiagnosticsRun: () => runs.n++ });
    // Ready work for a profile this host does not have is flagged at once.
    const [a, c] = [
      await b.createTask({ title: "a", assignee: "ghost" }),
      await b.createTask({ title: "c", assignee: "ghost" }),
    ];
    const first = await b.boardDelta({}, [a.id], known);
    expect(flaggedIds(first)).toEqual([a.id, c.id].sort());
    expect(first.attention_total).toBe(2);

    // A write the burst names leaves the list at once, another joins it at once.
    await b.assignTask(a.id, "coder");
    expect(flaggedIds(await b.boardDelta({}, [a.id], known))).toEqual([c.id]);
    const d = await b.createTask({ title: "d", assignee: "ghost" });
    const joined = await b.boardDelta({}, [d.id], known);
    expect(flaggedIds(joined)).toEqual([c.id, d.id].sort());
    expect(joined.attention_total).toBe(2);
    // Each delta ran the diagnostics engine once (the first over the board, the others on their ids).
    expect(runs.n).toBe(3);

    // A change no burst named (as time passing is) stays unseen while the judgement is kept…
    await b.assignTask(c.id, "coder");
    expect(flaggedIds(await b.boardDelta({}, [], known))).toEqual([c.id, d.id].sort());
    // …and shows once it is ATTENTION_KEPT_SECONDS old.
    b.clock.advance(ATTENTION_KEPT_SECONDS);
    expect(flaggedIds(await b.boardDelta({}, [], known))).toEqual([d.id]);
  });

  it("shows a card that became stranded with time within the kept window", async () => {
    const b = board();
    const ready = await b.createTask({ title: "waits", assignee: "coder" });
    expect(flaggedIds(await b.boardDelta({}, [ready.id], known))).toEqual([]);
    b.clock.advance(DEFAULT_STRANDED_THRESHOLD_SECONDS + 1);
    const later = await b.boardDelta({}, [], known);
    expect(flaggedIds(later)).toEqual([ready.id]);
    expect(later.attention[0]?.reason).toMatch(/stranded|waiting|ready/i);
  });

  it("keeps one judgement per scope: a tenant's list never holds another tenant's card", async () => {
    const b = board();
    const ours = await b.createTask({ title: "ours", assignee: "ghost", tenant: "acme" });
    const theirs = await b.createTask({ title: "theirs", assignee: "ghost", tenant: "globex" });
    const scoped = { knownProfiles: ["coder"], scopeTenant: "acme" };
    expect(flaggedIds(await b.boardDelta({ tenant: "acme" }, [ours.id], scoped))).toEqual([ours.id]);
    expect(flaggedIds(await b.boardDelta({}, [ours.id], known))).toEqual([ours.id, theirs.id].sort());
    // A burst naming the other tenant's card does not bring it into the tenant's kept list.
    expect(flaggedIds(await b.boardDelta({ tenant: "acme" }, [theirs.id], scoped))).toEqual([ours.id]);
    // Another set of known profiles is another judgement, not the kept one.
    const more = { knownProfiles: ["coder", "ghost"], scopeTenant: null };
    expect(flaggedIds(await b.boardDelta({}, [], more))).toEqual([]);
  });
});
