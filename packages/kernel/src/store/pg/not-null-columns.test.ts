import { getTableConfig, type PgTable } from "drizzle-orm/pg-core";
import * as schema from "@kanban/db/schema-pg";
import { expect, it } from "vitest";
import { NOT_NULL_COLUMNS } from "./not-null-columns.ts";

it("NOT_NULL_COLUMNS is exactly the column names NOT NULL in every PostgreSQL board table that has them", () => {
  const notNullEverywhere = new Map<string, boolean>();
  for (const table of Object.values(schema)) {
    let columns: { name: string; notNull: boolean }[];
    try {
      columns = getTableConfig(table as PgTable).columns;
    } catch {
      continue; // not a table (a helper the schema module exports)
    }
    for (const c of columns) notNullEverywhere.set(c.name, (notNullEverywhere.get(c.name) ?? true) && c.notNull);
  }
  const expected = [...notNullEverywhere].filter(([, notNull]) => notNull).map(([name]) => name);
  expect([...NOT_NULL_COLUMNS].sort()).toEqual(expected.sort());
  expect(expected.length).toBeGreaterThan(10);
});
