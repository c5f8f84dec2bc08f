import { boardSchemaName } from "@kanban/db";
import { expect } from "vitest";
import { testPgUrl, testStoreIsPostgres } from "./pg-store.ts";

/**
 * What the API shows as a board's `db_path`, on the store the test runs on: the SQLite file
 * (`…/kanban.db`), or on PostgreSQL `postgres://host:port/db#kanban_<slug>`, which must never carry
 * the user's name or password (they are in the test database's URL, so a leak would show here).
 */
export function expectBoardPath(dbPath: string | undefined, slug: string): void {
  if (!testStoreIsPostgres()) {
    expect(dbPath).toMatch(/kanban\.db$/);
    return;
  }
  const url = new URL(testPgUrl());
  expect(dbPath).toBe(`postgres://${url.host}${url.pathname}#${boardSchemaName(slug)}`);
  if (url.password) expect(dbPath).not.toContain(decodeURIComponent(url.password));
  if (url.username) expect(dbPath).not.toContain(`${decodeURIComponent(url.username)}@`);
}
