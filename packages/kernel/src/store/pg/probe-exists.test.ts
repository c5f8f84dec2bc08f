import { describe, expect, it } from "vitest";
import { probeExists } from "./probe-exists.ts";

describe("probeExists: each EXISTS stays a probe per row", () => {
  it("adds LIMIT 1 OFFSET 0 inside every EXISTS, and nothing elsewhere", () => {
    expect(
      probeExists(
        "SELECT t.id, EXISTS (SELECT 1 FROM task_runs r WHERE r.task_id = t.id) AS a FROM tasks t WHERE NOT EXISTS(SELECT 1 FROM x WHERE x.k = t.id AND x.v IN ('(', ')'))",
      ),
    ).toBe(
      "SELECT t.id, EXISTS (SELECT 1 FROM task_runs r WHERE r.task_id = t.id LIMIT 1 OFFSET 0) AS a FROM tasks t WHERE NOT EXISTS(SELECT 1 FROM x WHERE x.k = t.id AND x.v IN ('(', ')') LIMIT 1 OFFSET 0)",
    );
  });

  it("leaves an EXISTS that has a LIMIT of its own, and one nested in another, as they are", () => {
    const sql =
      "SELECT EXISTS (SELECT 1 FROM a WHERE EXISTS (SELECT 1 FROM b WHERE b.k = a.k)) AS n, EXISTS (SELECT 1 FROM c LIMIT 5) AS l";
    expect(probeExists(sql)).toBe(
      "SELECT EXISTS (SELECT 1 FROM a WHERE EXISTS (SELECT 1 FROM b WHERE b.k = a.k) LIMIT 1 OFFSET 0) AS n, EXISTS (SELECT 1 FROM c LIMIT 5) AS l",
    );
  });

  it("refuses a statement whose EXISTS is not closed", () => {
    expect(() => probeExists("SELECT EXISTS (SELECT 1 FROM a")).toThrow("no closing parenthesis");
  });
});
