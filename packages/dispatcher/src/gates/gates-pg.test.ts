import fs from "node:fs";
import path from "node:path";
import { createTestPgDatabase, type TestPgDatabase } from "@kanban/db/testing-pg";
import { type Board, openPgBoard } from "@kanban/kernel";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { killAll, makeHome, type TestHome } from "../../test/helpers.ts";
import { createDispatcher, type Dispatcher } from "../dispatcher.ts";
import { openPgDispatch } from "../pg-dispatch.ts";

/**
 * The dispatcher's tick runs the acceptance commands of a board on PostgreSQL too: the same runner,
 * reporting through the board's own pool.
 */
let database: TestPgDatabase;
let home: TestHome | null = null;
let board: Board | null = null;
let dispatcher: Dispatcher | null = null;

beforeAll(async () => {
  database = await createTestPgDatabase();
});
afterEach(async () => {
  await dispatcher?.gates.drain();
  await dispatcher?.boards.close();
  await dispatcher?.coordination.release();
  dispatcher = null;
  board?.close();
  board = null;
  await killAll();
  home?.cleanup();
  home = null;
});
afterAll(async () => {
  await database?.drop();
});

describe("acceptance commands on a PostgreSQL board", { timeout: 60_000 }, () => {
  it("runs a waiting round's command in the card's workspace and reports it: passed → done", async () => {
    home = makeHome({ kanban: { crash_grace_seconds: 0 } });
    const config = home.config({ KANBAN_DATABASE_URL: database.url });
    const pg = await openPgDispatch(config);
    const logs: string[] = [];
    dispatcher = createDispatcher(config, {
      coordination: pg.coordination,
      boards: pg.boards,
      log: (l) => logs.push(l),
    });
    board = await openPgBoard({ url: database.url, board: "default", poolSize: 2, warn: () => {} });

    const dir = path.join(fs.realpathSync(home.home), "project");
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, "check.js"), 'console.log("ran in " + process.cwd());\n');
    const t = await board.createTask({ title: "pg", assignee: "coder", workspace_kind: "dir", workspace_path: dir });
    await board.setGates("card", t.id, { commands: [["node", "check.js"]] });
    const claim = await board.claimTask(t.id, { claimer: "elsewhere:1" });
    const held = await board.completeTask(t.id, { expected_run_id: claim?.current_run_id as number });
    expect(held.gated).toBe("commands");

    await dispatcher.tick();
    expect(dispatcher.gates.active).toBe(1);
    await dispatcher.gates.drain();
    expect((await board.requireTask(t.id)).status).toBe("done");
    const [round] = (await board.cardGates(t.id)).rounds;
    expect(round?.items.map((i) => [i.gate, i.outcome, i.body?.trim()])).toEqual([
      ["command", "passed", `ran in ${dir}`],
    ]);
    expect(logs.some((l) => l.includes(`gates of ${t.id}`) && l.includes("passed"))).toBe(true);
  });
});
