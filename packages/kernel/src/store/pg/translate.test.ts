import { describe, expect, it } from "vitest";
import { bindValues, translate } from "./translate.ts";

// The translation is checked end to end by the contract suites on PostgreSQL (vitest project
// "postgres"); these pin each rewrite on its own, so a change to one shows which meaning moved.

describe("translate: the store's SQLite dialect as PostgreSQL runs it", () => {
  it("numbers positional parameters and leaves a ? inside a string literal alone", () => {
    const t = translate("SELECT '?' AS q, id FROM tasks WHERE id = ? AND status = ?");
    expect(t.text).toBe("SELECT '?' AS q, id FROM tasks WHERE id = $1 AND status = $2");
    expect(bindValues(t, ["t_1", "ready"])).toEqual(["t_1", "ready"]);
  });

  it("makes one parameter of a name used twice, bound from an object", () => {
    const t = translate("SELECT 1 FROM tasks WHERE tenant = :tenant OR created_by = :tenant OR id = :id");
    expect(t.text).toBe("SELECT 1 FROM tasks WHERE tenant = $1 OR created_by = $1 OR id = $2");
    expect(bindValues(t, [{ tenant: "acme", id: "t_1" }])).toEqual(["acme", "t_1"]);
    expect(() => bindValues(t, [{ tenant: "acme" }])).toThrow("missing SQL parameter :id");
  });

  it("turns IN (json_each) into = ANY / <> ALL and sends the list as an array (NULL stays NULL)", () => {
    const t = translate(
      "SELECT id FROM tasks t WHERE t.id IN (SELECT value FROM json_each(?)) AND assignee NOT IN (SELECT value FROM json_each(?))",
    );
    expect(t.text).toBe("SELECT id FROM tasks t WHERE t.id = ANY($1) AND assignee <> ALL($2)");
    expect(bindValues(t, [JSON.stringify(["a", "b"]), null])).toEqual([["a", "b"], null]);
    expect(() => bindValues(t, ['{"a":1}', null])).toThrow("not a JSON array");
  });

  it("types a parameter that is only tested for NULL, and gives a name used elsewhere a flag of its own", () => {
    const only = translate("SELECT 1 FROM tasks t WHERE id = ? AND (? IS NULL OR t.tenant = ?)");
    expect(only.text).toBe("SELECT 1 FROM tasks t WHERE id = $1 AND ($2::int IS NULL OR t.tenant = $3)");
    expect(bindValues(only, ["t_1", "acme", "acme"])).toEqual(["t_1", 1, "acme"]);
    expect(bindValues(only, ["t_1", null, null])).toEqual(["t_1", null, null]);

    const shared = translate("SELECT 1 FROM tasks WHERE (:tenant IS NULL OR tenant = :tenant)");
    expect(shared.text).toBe("SELECT 1 FROM tasks WHERE ($2::int IS NULL OR tenant = $1)");
    expect(bindValues(shared, [{ tenant: "acme" }])).toEqual(["acme", 1]);
    expect(bindValues(shared, [{ tenant: null }])).toEqual([null, null]);
  });

  it("spells SQLite's null-safe IS as IS [NOT] DISTINCT FROM, and leaves IS NULL alone", () => {
    expect(
      translate("UPDATE tasks SET x = 1 WHERE claim_lock IS ? AND a IS NOT ? AND b IS NULL AND c IS NOT NULL").text,
    ).toBe(
      "UPDATE tasks SET x = 1 WHERE claim_lock IS NOT DISTINCT FROM $1 AND a IS DISTINCT FROM $2 AND b IS NULL AND c IS NOT NULL",
    );
    expect(translate("SELECT 1 WHERE s IS 'todo'").text).toBe("SELECT 1 WHERE s IS NOT DISTINCT FROM 'todo'");
  });

  it("drops INDEXED BY and reads JSON through the forgiving kanban_try_jsonb", () => {
    expect(translate("SELECT id FROM tasks INDEXED BY idx_tasks_ready_priority WHERE status = 'ready'").text).toBe(
      "SELECT id FROM tasks WHERE status = 'ready'",
    );
    expect(
      translate(
        "SELECT json_valid(e.payload), json_extract(e.payload, '$.status'), json_type(e.payload, '$.reason') FROM task_events e",
      ).text,
    ).toBe(
      "SELECT (kanban_try_jsonb(e.payload) IS NOT NULL), (kanban_try_jsonb(e.payload) ->> 'status'), jsonb_typeof(kanban_try_jsonb(e.payload) -> 'reason') FROM task_events e",
    );
  });

  it("gives nullable ORDER BY terms SQLite's NULL order and leaves NOT NULL columns as their indexes expect", () => {
    expect(
      translate(
        "SELECT id FROM tasks t ORDER BY t.priority DESC, t.created_at ASC, t.started_at, COALESCE(completed_at, 0) DESC LIMIT ?",
      ).text,
    ).toBe(
      "SELECT id FROM tasks t ORDER BY t.priority DESC NULLS LAST, t.created_at ASC, t.started_at NULLS FIRST, COALESCE(completed_at, 0) DESC NULLS LAST LIMIT $1",
    );
    // Inside a window and a subquery, and a term that already says its NULL order.
    expect(
      translate(
        "SELECT ROW_NUMBER() OVER (PARTITION BY task_id ORDER BY ended_at DESC) AS n FROM task_runs WHERE id IN (SELECT id FROM task_runs ORDER BY summary NULLS LAST)",
      ).text,
    ).toBe(
      "SELECT ROW_NUMBER() OVER (PARTITION BY task_id ORDER BY ended_at DESC NULLS LAST) AS n FROM task_runs WHERE id IN (SELECT id FROM task_runs ORDER BY summary NULLS LAST)",
    );
  });

  it("translates a statement once and hands back the same result", () => {
    const sql = "SELECT id FROM tasks WHERE id = ?";
    expect(translate(sql)).toBe(translate(sql));
  });
});
