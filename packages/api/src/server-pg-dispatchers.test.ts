import { type KanbanPostgres, openPostgres } from "@kanban/db";
import { makeTempDir } from "@kanban/db/testing";
import { createTestPgDatabase, type TestPgDatabase } from "@kanban/db/testing-pg";
import { PgDispatchCoordination, systemClock } from "@kanban/kernel";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type RunningServer, startServer } from "./server.ts";
import { captureLogger } from "./testing.ts";

// `kanban serve` on PostgreSQL: the board's dispatcher panel lists the dispatchers registered in the
// database (any host), not this home's dispatcher.json, which a server on PostgreSQL never has.

let database: TestPgDatabase;
let server: RunningServer;
let pool: KanbanPostgres;
let coordination: PgDispatchCoordination | null = null;
const home = makeTempDir("kanban-serve-pg-");

beforeAll(async () => {
  database = await createTestPgDatabase();
  server = await startServer({
    port: 0,
    location: { home: home.dir },
    logger: captureLogger(),
    database: { engine: "postgres", url: database.url, source: "KANBAN_DATABASE_URL" },
    liveEvents: { mode: "poll", url: null },
  });
  pool = await openPostgres(database.url, { poolSize: 2 });
});

afterAll(async () => {
  await coordination?.close();
  await server?.close();
  await pool?.close();
  await database?.drop();
  home.cleanup();
});

async function call(path: string, method: "GET" | "POST" = "GET"): Promise<Record<string, unknown>> {
  const res = await fetch(
    `${server.url}/trpc/${path}`,
    method === "POST" ? { method, body: "{}", headers: { "content-type": "application/json" } } : {},
  );
  expect(res.status).toBe(200);
  return ((await res.json()) as { result: { data: Record<string, unknown> } }).result.data;
}

it("dispatcher.status over HTTP lists the dispatchers registered in the database, and a nudge reaches them", async () => {
  expect(await call("dispatcher.status")).toMatchObject({ alive: false, dispatchers: [] });
  const c = new PgDispatchCoordination({
    db: pool,
    clock: systemClock,
    id: "d1",
    host: "host-z",
    pid: 4321,
    intervalSeconds: 5,
  });
  coordination = c;
  await c.register("default");
  await c.heartbeat("default", {
    ticks: 3,
    last_tick_at: Math.floor(Date.now() / 1000),
    last_tick: { board: "default" },
  });
  const status = await call("dispatcher.status");
  expect(status.alive).toBe(true);
  expect(
    (status.dispatchers as { host: string; pid: number; state: string }[]).map((d) => [d.host, d.pid, d.state]),
  ).toEqual([["host-z", 4321, "alive"]]);
  expect(await call("dispatcher.nudge", "POST")).toEqual({ nudged: true, alive: true });
});
