import { makeTempDir } from "@kanban/db/testing";
import { TestClock } from "@kanban/kernel/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createKanbanClient, type KanbanClient } from "./client.ts";
import { type RunningServer, startServer } from "./server.ts";
import { captureLogger, waitFor } from "./testing.ts";

/**
 * `kanban serve`'s recovery sweep for remote claims, on a real server (SQLite; the hosts suite runs
 * it on PostgreSQL too): a claim held by another machine (lock `<host id>:<pid>`) whose lease ran out
 * comes back to ready on every board, with no dispatcher on this machine.
 */
const ADMIN = "admin-token-0123456789abcdef";

let home: ReturnType<typeof makeTempDir>;
let server: RunningServer;
let logger: ReturnType<typeof captureLogger>;
let clock: TestClock;
let admin: KanbanClient;

beforeEach(async () => {
  home = makeTempDir("kanban-sweep-");
  logger = captureLogger();
  clock = new TestClock();
  server = await startServer({
    port: 0,
    location: { home: home.dir },
    logger,
    token: ADMIN,
    clock,
    remoteSweepMs: 25,
    terminate: () => {},
  });
  admin = createKanbanClient({ url: `${server.url}/trpc`, token: ADMIN });
});

afterEach(async () => {
  await server.close();
  home.cleanup();
});

describe("the remote sweep of kanban serve", () => {
  it("gives back an expired remote claim on every board once a lease has passed since start, and leaves a live lease alone", async () => {
    await admin.boards.create.mutate({ slug: "ios" });
    const expired = (await admin.tasks.create.mutate({ board: "ios", title: "silent host", assignee: "coder" })).task;
    const live = (await admin.tasks.create.mutate({ title: "beating host", assignee: "coder" })).task;
    await admin.tasks.claim.mutate({
      board: "ios",
      id: expired.id,
      claimer: "kh-00000000000000a1:77",
      ttl_seconds: 10,
    });
    await admin.tasks.claim.mutate({ id: live.id, claimer: "kh-00000000000000b2:88", ttl_seconds: 1000 });
    // Past the claim's ttl but within the first lease (30 s) after the server started: hosts get one
    // lease to reach a server that was down before any claim is judged, so nothing is given back yet
    // (the timer sweeps every 25 ms; 40 of its periods pass).
    clock.advance(11);
    await new Promise((r) => setTimeout(r, 1000));
    expect((await admin.tasks.get.query({ board: "ios", id: expired.id })).task.status).toBe("running");
    expect(logger.lines.some((l) => l.message === "claims of silent hosts given back")).toBe(false);
    clock.advance(20);
    await waitFor(() => logger.lines.some((l) => l.message === "claims of silent hosts given back"), 10_000, "sweep");
    const line = logger.lines.find((l) => l.message === "claims of silent hosts given back");
    expect(line?.fields).toEqual({ board: "ios", tasks: expired.id });
    const back = await admin.tasks.get.query({ board: "ios", id: expired.id });
    expect(back.task).toMatchObject({ status: "ready", claim_lock: null });
    expect(back.events.some((e) => e.kind === "reclaimed")).toBe(true);
    expect((await admin.tasks.get.query({ id: live.id })).task.status).toBe("running");
  });
});
