import { expect, it } from "vitest";
import { boardInternals, rawSql } from "./testing/index.ts";
import { useTestBoards } from "./testing/helpers.ts";

// The width of generated ids, on the SQLite store only: it is a property of the id source, which both
// engines share. What is engine-specific (a collision surfacing as the engine's unique-key error,
// mapped to one retry) is pinned on both stores by create.test.ts with injected colliding ids; 10,000
// savepoint round trips to PostgreSQL would add half a minute to prove the generator again.

const board = useTestBoards();

it("create: 10k tasks never hit a duplicate id (retry once on a collision)", async () => {
  const b = board();
  // One outer transaction (each create nests as a savepoint) keeps this about id width, not fsync.
  await boardInternals(b).ctx.tx(async () => {
    for (let i = 0; i < 10_000; i++) await b.createTask({ title: `task ${i}` });
  });
  expect((await rawSql(b).get<{ n: number }>("SELECT count(*) AS n FROM tasks"))?.n).toBe(10_000);
});
