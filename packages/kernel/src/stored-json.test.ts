import { boardInternals, rawSql } from "./testing/index.ts";
import { describe, expect, it } from "vitest";
import { boardDiagnostics } from "./diagnostics.ts";
import { jsonNestingDepth, parseStoredJson, STORED_JSON_LIMITS, storableJson } from "./stored-json.ts";
import { caught, useTestBoards } from "./testing/helpers.ts";
import { buildWorkerContext } from "./worker-context.ts";

const board = useTestBoards();

const deepObject = (levels: number) => `${'{"a":'.repeat(levels)}1${"}".repeat(levels)}`;
const deepArray = (levels: number) => `${"[".repeat(levels)}${"]".repeat(levels)}`;

describe("jsonNestingDepth", () => {
  it("counts objects and arrays, and ignores brackets inside strings, escaped quotes included", () => {
    expect(jsonNestingDepth("1")).toBe(0);
    expect(jsonNestingDepth("{}")).toBe(1);
    expect(jsonNestingDepth('{"a":[{"b":[]}],"c":{}}')).toBe(4);
    expect(jsonNestingDepth('{"a":"[[[{{{"}')).toBe(1);
    expect(jsonNestingDepth('{"a":"\\"[[[","b":"\\\\"}')).toBe(1);
  });

  it("stops counting past the limit it is given", () => {
    expect(jsonNestingDepth(deepArray(1_000_000), 10)).toBe(11);
  });
});

describe("parseStoredJson", () => {
  it("parses values within the limits, and reads null for NULL, empty or malformed text", () => {
    expect(parseStoredJson('{"a":[1,2]}')).toEqual({ value: { a: [1, 2] } });
    expect(parseStoredJson(deepObject(STORED_JSON_LIMITS.maxDepth - 1))).toHaveProperty("value");
    for (const text of [null, undefined, "", "{not json", 42]) expect(parseStoredJson(text)).toBeNull();
  });

  it("does not parse a value nested deeper than the limit or longer than the size limit, and says why", () => {
    expect(parseStoredJson(deepArray(STORED_JSON_LIMITS.maxDepth + 1))).toEqual({
      unreadable: `stored JSON is nested deeper than 128 levels (${2 * (STORED_JSON_LIMITS.maxDepth + 1)} characters); not shown`,
    });
    const long = `{"a":"${"x".repeat(STORED_JSON_LIMITS.maxChars)}"}`;
    expect(parseStoredJson(long)).toEqual({
      unreadable: `stored JSON is ${long.length} characters long (limit ${STORED_JSON_LIMITS.maxChars}); not shown`,
    });
  });
});

describe("storableJson", () => {
  it("refuses, with INVALID_INPUT naming the field, what a read would not parse: too deep, cyclic or too long", async () => {
    let deep: unknown = 1;
    for (let i = 0; i < 10_000; i++) deep = [deep];
    expect((await caught(() => storableJson(deep, "metadata"))).message).toBe(
      "metadata is nested deeper than 128 levels",
    );
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect((await caught(() => storableJson(cyclic, "delivery_metadata"))).code).toBe("INVALID_INPUT");
    const err = await caught(() => storableJson({ blob: "x".repeat(STORED_JSON_LIMITS.maxChars) }, "metadata"));
    expect(err.message).toMatch(/^metadata is \d+ characters of JSON \(limit 4194304\)$/);
    expect(storableJson({ b: 1, a: [2] }, "metadata")).toBe('{"b":1,"a":[2]}');
  });
});

describe("reads of rows holding pathological JSON (written by Hermes, an old version or raw SQL)", () => {
  it.each([3_000, 100_000])(
    "a task, its runs, events, skills, subscriptions, context and its child's context read at %i levels deep",
    async (levels) => {
      const b = board();
      const parent = await b.createTask({ title: "deep parent", assignee: "coder" });
      await b.claimTask(parent.id);
      await b.completeTask(parent.id, { summary: "handoff text", metadata: { ok: true } });
      const child = await b.createTask({ title: "child", assignee: "coder", parents: [parent.id] });
      await b.addNotifySub({ task_id: parent.id, platform: "slack", chat_id: "C1" });
      // Straight into the database, bypassing every kernel check.
      const sql = rawSql(b);
      await sql.run("UPDATE task_runs SET metadata = ? WHERE task_id = ?", deepObject(levels), parent.id);
      await sql.run("UPDATE tasks SET skills = ? WHERE id = ?", deepArray(levels), parent.id);
      await sql.run(
        "UPDATE kanban_notify_subs SET delivery_metadata = ? WHERE task_id = ?",
        deepObject(levels),
        parent.id,
      );
      await sql.run(
        "INSERT INTO task_events (task_id, kind, payload, created_at) VALUES (?, 'edited', ?, ?), (?, 'status', ?, ?)",
        parent.id,
        deepObject(levels),
        b.clock.seconds,
        child.id,
        deepArray(levels),
        b.clock.seconds,
      );

      const marker = {
        _unreadable: `stored JSON is nested deeper than 128 levels (${deepObject(levels).length} characters); not shown`,
      };
      // What the API serialises for tasks.get / tasks.context: every piece must survive JSON.stringify.
      const reads = {
        task: await b.getTask(parent.id),
        list: await b.listTasks({}),
        runs: await b.listRuns(parent.id),
        events: await b.listEvents(parent.id),
        childEvents: await b.listEvents(child.id),
        subs: await b.listNotifySubs(parent.id),
        latest: await b.latestRun(parent.id),
        diagnostics: await boardDiagnostics(boardInternals(b).ctx),
        context: await buildWorkerContext(boardInternals(b).ctx, parent.id),
        childContext: await buildWorkerContext(boardInternals(b).ctx, child.id),
      };
      expect(() => JSON.stringify(reads)).not.toThrow();
      expect(reads.task?.skills).toBeNull();
      expect(reads.runs.at(-1)?.metadata).toEqual(marker);
      expect(reads.events.at(-1)?.payload).toEqual(marker);
      expect(reads.subs[0]?.delivery_metadata).toEqual(marker);
      expect(reads.context).toContain("_unreadable");
      expect(reads.childContext).toContain("handoff text");
      expect(reads.childContext).toContain("_unreadable");
      // The tick's promotion pass reads status payloads too.
      await b.recomputeReady();
    },
  );
});
