import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { type BoardLocation, createBoard, removeBoard } from "@kanban/db";
import { openBoard } from "@kanban/kernel";
import { afterEach, describe, expect, it } from "vitest";
import { type BoardPorts, SqliteBoardSet } from "./board-set.ts";

/**
 * How the dispatcher holds SQLite boards between ticks (`SqliteBoardSet`): one open Board per file,
 * given up when the file at the path is another one, when the claim TTL changed, or when the board
 * leaves the listing.
 */
let home: string | undefined;

afterEach(() => {
  if (home) fs.rmSync(home, { recursive: true, force: true });
  home = undefined;
});

function makeSet(ttl: () => number): { set: SqliteBoardSet; loc: BoardLocation } {
  home = fs.mkdtempSync(path.join(os.tmpdir(), "kanban-board-set-"));
  const loc: BoardLocation = { home };
  const ports = (): BoardPorts => ({ claimTtlSeconds: ttl(), warn: () => {} });
  return { set: new SqliteBoardSet(loc, null, () => "default", ports), loc };
}

describe("SqliteBoardSet", () => {
  it("keeps one Board per file across ticks and reopens it when its claim TTL changes", async () => {
    let ttl = 900;
    const { set, loc } = makeSet(() => ttl);
    createBoard(loc, "default");
    try {
      const [target] = await set.list();
      if (!target) throw new Error("default not listed");
      const first = await set.open(target);
      set.done(first);
      // Kept open: the next tick's open is the same Board, and it still works.
      const again = await set.open(target);
      expect(again).toBe(first);
      await again.createTask({ title: "still open" });
      set.done(again);
      expect(set.openCount).toBe(1);

      ttl = 60;
      const reopened = await set.open(target);
      expect(reopened).not.toBe(first);
      // The old one was closed, not leaked: using it fails.
      await expect(first.listTasks()).rejects.toThrow();
      expect((await reopened.listTasks()).map((t) => t.title)).toEqual(["still open"]);
    } finally {
      await set.close();
    }
    expect(set.openCount).toBe(0);
  });

  it("reopens a board whose file is another one (removed and made again under its slug between two ticks)", async () => {
    const { set, loc } = makeSet(() => 900);
    createBoard(loc, "default");
    createBoard(loc, "side");
    try {
      const side = (await set.list()).find((t) => t.slug === "side");
      if (!side) throw new Error("side not listed");
      const first = await set.open(side);
      await first.createTask({ title: "on the old file" });
      set.done(first);

      removeBoard(loc, "side", { archive: false });
      createBoard(loc, "side");
      const fresh = openBoard({ board: "side", location: loc, warn: () => {} });
      await fresh.createTask({ title: "on the new file" });
      fresh.close();

      const second = await set.open(side);
      expect(second).not.toBe(first);
      expect((await second.listTasks()).map((t) => t.title)).toEqual(["on the new file"]);
      set.done(second);
    } finally {
      await set.close();
    }
  });

  it("closes a board that left the listing (archived), so its file is not held", async () => {
    const { set, loc } = makeSet(() => 900);
    createBoard(loc, "default");
    createBoard(loc, "side");
    try {
      const side = (await set.list()).find((t) => t.slug === "side");
      if (!side) throw new Error("side not listed");
      const board = await set.open(side);
      set.done(board);
      expect(set.openCount).toBe(1);

      removeBoard(loc, "side");
      expect((await set.list()).map((t) => t.slug)).toEqual(["default"]);
      expect(set.openCount).toBe(0);
      await expect(board.listTasks()).rejects.toThrow();
    } finally {
      await set.close();
    }
  });
});
