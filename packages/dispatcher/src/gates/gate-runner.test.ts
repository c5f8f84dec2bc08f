import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { boardLocationFromEnv } from "@kanban/db";
import { type Board, openBoard } from "@kanban/kernel";
import { TestClock } from "@kanban/kernel/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { GateRunner, gateClaimer } from "./gate-runner.ts";

/** The runner against a real board file, with real command processes. */
let root: string;
let board: Board;
let clock: TestClock;
let logs: string[];
beforeEach(() => {
  root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "kanban-gate-runner-")));
  clock = new TestClock(Math.floor(Date.now() / 1000));
  board = openBoard({
    board: "default",
    location: boardLocationFromEnv({ KANBAN_HOME: path.join(root, "home") }),
    clock,
    warn: () => {},
  });
  logs = [];
});
afterEach(() => {
  board.close();
  fs.rmSync(root, { recursive: true, force: true });
});

function runner(concurrency: number | (() => number)): GateRunner {
  return new GateRunner({
    claimer: gateClaimer("testhost", 4242),
    hostname: "testhost",
    concurrency: typeof concurrency === "number" ? () => concurrency : concurrency,
    log: (l) => logs.push(l),
    warn: (l) => logs.push(`warning: ${l}`),
  });
}

const withBoard = <T>(fn: (b: Board) => Promise<T>) => fn(board);

/** A card completed by its worker, whose `commands` now wait for a runner. */
async function completed(commands: unknown[], opts: { workspace?: string; claimer?: string } = {}): Promise<string> {
  const t = await board.createTask({
    title: "t",
    assignee: "coder",
    workspace_kind: "dir",
    workspace_path: opts.workspace ?? root,
  });
  await board.setGates("card", t.id, { commands });
  const claim = await board.claimTask(t.id, { claimer: opts.claimer ?? "testhost:1" });
  await board.completeTask(t.id, { expected_run_id: claim?.current_run_id as number });
  return t.id;
}

const GO = () => path.join(root, "go");
/** A command that waits until the test lets it finish. */
const waiting = () => ({
  name: "wait",
  argv: [
    process.execPath,
    "-e",
    `const t = setInterval(() => { if (require("fs").existsSync(${JSON.stringify(GO())})) clearInterval(t); }, 50);`,
  ],
});

describe("the gate runner", { timeout: 60_000 }, () => {
  it("stops at the first command that does not pass: the later ones are neither run nor reported", async () => {
    const marker = path.join(root, "second-ran");
    const id = await completed([
      { name: "first", argv: [process.execPath, "-e", "console.log('no'); process.exit(2)"] },
      { name: "second", argv: [process.execPath, "-e", `require("fs").writeFileSync(${JSON.stringify(marker)}, "")`] },
    ]);
    const r = runner(2);
    expect(await r.tick("default", board, withBoard)).toEqual([id]);
    await r.drain();
    expect(fs.existsSync(marker)).toBe(false);
    const [round] = (await board.cardGates(id)).rounds;
    expect(round?.items.map((i) => [i.gate, i.name, i.outcome])).toEqual([["command", "first", "failed"]]);
    expect((await board.requireTask(id)).status).toBe("ready");
    // One line per round; the program's name only, never its arguments.
    expect(logs).toEqual([
      `board default: gates of ${id} round ${round?.round} failed: command 1/2 (${path.basename(process.execPath)}) failed → returned`,
    ]);
  });

  it("runs at most `concurrency` rounds of a board at once, and never the same round twice", async () => {
    const ids = [await completed([waiting()]), await completed([waiting()]), await completed([waiting()])];
    let limit = 2;
    const r = runner(() => limit);
    const first = await r.tick("default", board, withBoard);
    expect(first).toHaveLength(2);
    expect(r.active).toBe(2);
    expect(await r.tick("default", board, withBoard)).toEqual([]);

    // The leases run out while the commands still run (a config edit raised the limit meanwhile): the
    // board offers every round again, and the runner takes only the one it is not running already.
    clock.advance(600 + 61);
    limit = 5;
    expect((await board.pendingCommandRounds()).map((x) => x.task.id).sort()).toEqual([...ids].sort());
    expect(await r.tick("default", board, withBoard)).toEqual(ids.filter((id) => !first.includes(id)));
    expect(r.active).toBe(3);
    fs.writeFileSync(GO(), "");
    await r.drain();
    expect(r.active).toBe(0);
    for (const id of ids) {
      expect((await board.requireTask(id)).status).toBe("done");
      const passed = (await board.listEvents(id)).filter((e) => e.kind === "gate_passed");
      expect(passed).toHaveLength(1);
    }
  });

  it("leaves a round whose workspace is on another dispatcher's machine to that machine; fails one of its own", async () => {
    const gone = path.join(root, "not-here");
    const theirs = await completed([{ name: "c", argv: ["true"] }], { workspace: gone, claimer: "otherhost:77" });
    const ours = await completed([{ name: "c", argv: ["true"] }], { workspace: gone, claimer: "testhost:78" });
    const r = runner(5);
    expect(await r.tick("default", board, withBoard)).toEqual([ours]);
    await r.drain();
    // Not claimed: the other machine's runner still finds it waiting.
    expect((await board.pendingCommandRounds()).map((x) => x.task.id)).toEqual([theirs]);
    expect((await board.requireTask(theirs)).status).toBe("review");
    const mine = await board.requireTask(ours);
    expect(mine.status).toBe("blocked");
    const [item] = (await board.cardGates(ours)).rounds[0]?.items ?? [];
    expect(item?.detail?.error).toBe(`workspace ${gone} is not on this machine`);
  });

  it("judges a round whose worker ran on a remote host: hosts run no gates, so its missing workspace blocks the card here", async () => {
    const gone = path.join(root, "on-the-host");
    const remote = await completed([{ name: "c", argv: ["true"] }], {
      workspace: gone,
      claimer: "kh-0123456789abcdef:4321",
    });
    const r = runner(5);
    expect(await r.tick("default", board, withBoard)).toEqual([remote]);
    await r.drain();
    expect((await board.requireTask(remote)).status).toBe("blocked");
    expect(await board.pendingCommandRounds()).toEqual([]);
  });
});
