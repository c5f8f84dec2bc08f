import { describe, expect, it } from "vitest";
import { checkCoordinationFor } from "./choose.ts";
import { SqliteCoordination } from "./sqlite.ts";

describe("checkCoordinationFor", () => {
  it("refuses a PostgreSQL board under the host-local file coordination, and lets SQLite boards through", () => {
    const files = new SqliteCoordination("/nonexistent-home", "host", 1);
    expect(() => checkCoordinationFor({ engine: "postgres", path: "postgres://db/x#kanban_a" }, files)).toThrow(
      /on PostgreSQL but this dispatcher coordinates through host-local files/,
    );
    expect(() => checkCoordinationFor({ engine: "sqlite", path: "/h/kanban.db" }, files)).not.toThrow();
    expect(() => checkCoordinationFor({ path: "/h/kanban.db" }, files)).not.toThrow();
  });
});
