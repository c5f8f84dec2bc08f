import fs from "node:fs";
import { openBoard } from "@kanban/kernel";
import { afterEach, describe, expect, it } from "vitest";
import { seedDemo, startDemoFeeder } from "../../../scripts/demo.ts";
import { makeHome, type TempHome, waitFor } from "./support/env.ts";

/**
 * The `--demo` board (issue 12 item 23): a second start brings new cards to work instead of a board
 * where everything is already done, and new projects keep arriving while someone watches.
 */
const ROOT = new URL("../../../", import.meta.url).pathname;
let home: TempHome | undefined;
afterEach(() => {
  home?.cleanup();
  home = undefined;
});

async function readyForDemoWorker(h: TempHome): Promise<number> {
  const board = openBoard({ location: { home: h.home }, board: "demo" });
  try {
    return (await board.listTasks({})).filter((t) => t.status === "ready" && t.assignee === "demo-worker").length;
  } finally {
    board.close();
  }
}

describe("the demo board", () => {
  it("adds a new round of workable cards on every start, keeping the person's config.json", async () => {
    home = makeHome("demo-seed", {
      kanban: { failure_limit: 3 },
      profiles: { coder: { command: ["node", "-e", "0"] } },
    });
    const first = await seedDemo({ home: home.home }, ROOT);
    expect(first).toMatchObject({ board: "demo", first: true });
    expect(await readyForDemoWorker(home)).toBe(2); // the first step of each of two projects

    // Everything of the first round is finished (as after a demo run)…
    const board = openBoard({ location: { home: home.home }, board: "demo" });
    for (const t of await board.listTasks({}))
      if (t.status !== "done" && t.status !== "triage") await board.moveTask(t.id, { status: "done", summary: "done" });
    board.close();
    expect(await readyForDemoWorker(home)).toBe(0);

    // …and a second start has work again.
    const second = await seedDemo({ home: home.home }, ROOT);
    expect(second).toMatchObject({ first: false });
    expect(second.tasks).toBeGreaterThan(0);
    expect(await readyForDemoWorker(home)).toBe(2);

    const config = JSON.parse(fs.readFileSync(`${home.home}/config.json`, "utf8")) as {
      kanban: Record<string, unknown>;
      profiles: Record<string, unknown>;
    };
    expect(Object.keys(config.profiles).sort()).toEqual(["coder", "demo-worker"]);
    expect(config.kanban.failure_limit).toBe(3);
  });

  it("keeps feeding new projects while it runs", async () => {
    home = makeHome("demo-feed");
    await seedDemo({ home: home.home }, ROOT);
    const before = await readyForDemoWorker(home);
    const feeder = startDemoFeeder({ home: home.home }, "demo", { everyMs: 100, minutes: 1 });
    try {
      const h = home;
      await waitFor(async () => (await readyForDemoWorker(h)) >= before + 2, "two more projects", 10_000, 50);
    } finally {
      feeder.stop();
    }
  });
});
