import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createBoard, openBoardDatabase } from "./board-database.ts";
import {
  type BoardLocation,
  boardDbPath,
  boardLocationFromEnv,
  currentBoard,
  defaultBoardName,
  listBoards,
  logsDir,
  normaliseSlug,
  readBoardMetadata,
  removeBoard,
  setCurrentBoard,
  workspacesRoot,
  writeBoardMetadata,
} from "./boards.ts";
import { KanbanDbError } from "./errors.ts";
import { makeTempDir } from "./testing.ts";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});
function home(): BoardLocation {
  const t = makeTempDir();
  cleanups.push(t.cleanup);
  return { home: t.dir };
}
const quiet = { warn: () => {} };

describe("board slugs", () => {
  it("normalises case and whitespace", () => {
    expect(normaliseSlug("  My-Board_2 ")).toBe("my-board_2");
  });
  it.each([["-lead"], ["_lead"], ["has space"], ["../etc"], ["a".repeat(65)], ["dots.no"]])(
    "rejects %j with Hermes' message",
    (bad) => {
      expect(() => normaliseSlug(bad)).toThrow(/^invalid board slug '.*': must be 1-64 chars, lowercase alphanumerics/);
    },
  );
  it("rejects an empty slug", () => {
    expect(() => normaliseSlug("  ")).toThrow("no board given");
  });
  it("derives display names from slugs", () => {
    expect(defaultBoardName("atm10-server")).toBe("Atm10 Server");
    expect(defaultBoardName("ops_team")).toBe("Ops Team");
  });
});

describe("paths (Hermes layout)", () => {
  it("puts the default board at <home>/kanban.db and others under kanban/boards/<slug>", () => {
    const loc = { home: "/h" };
    expect(boardDbPath(loc, "default")).toBe("/h/kanban.db");
    expect(boardDbPath(loc, "ops")).toBe("/h/kanban/boards/ops/kanban.db");
    expect(workspacesRoot(loc, "default")).toBe("/h/kanban/workspaces");
    expect(workspacesRoot(loc, "ops")).toBe("/h/kanban/boards/ops/workspaces");
    expect(logsDir(loc, "default")).toBe("/h/kanban/logs");
    expect(logsDir(loc, "ops")).toBe("/h/kanban/boards/ops/logs");
  });
  it("lets KANBAN_DB pin the file and KANBAN_WORKSPACES_ROOT pin workspaces", () => {
    const loc = boardLocationFromEnv({ KANBAN_HOME: "/h", KANBAN_DB: "/x/one.db", KANBAN_WORKSPACES_ROOT: "/w" });
    expect(boardDbPath(loc, "ops")).toBe("/x/one.db");
    expect(workspacesRoot(loc, "ops")).toBe("/w");
  });
  it("defaults KANBAN_HOME to ~/.kanban and ignores empty variables", () => {
    const loc = boardLocationFromEnv({ KANBAN_HOME: " ", KANBAN_BOARD: "" });
    expect(loc.home.endsWith(`${path.sep}.kanban`)).toBe(true);
    expect(loc.envBoard).toBeUndefined();
  });
});

describe("boards", () => {
  it("creates a board with board.json and a migrated database; creating again keeps its data", () => {
    const loc = home();
    const meta = createBoard(loc, "Ops", { name: "Ops team", description: "on call" }, quiet);
    expect(meta).toMatchObject({
      slug: "ops",
      name: "Ops team",
      description: "on call",
      archived: false,
      default_workdir: null,
    });
    expect(typeof meta.created_at).toBe("number");
    const file = path.join(loc.home, "kanban", "boards", "ops", "board.json");
    expect(JSON.parse(fs.readFileSync(file, "utf8"))).not.toHaveProperty("db_path");
    expect(fs.readFileSync(file, "utf8").endsWith("}\n")).toBe(true);
    const db = openBoardDatabase(loc, "ops", quiet);
    db.sqlite.exec("INSERT INTO tasks (id, title, status, created_at) VALUES ('t_00000001', 'keep me', 'ready', 1)");
    db.close();
    createBoard(loc, "ops", {}, quiet);
    const again = openBoardDatabase(loc, "ops", quiet);
    expect(again.sqlite.prepare("SELECT title FROM tasks").all()).toEqual([{ title: "keep me" }]);
    again.close();
  });

  it("refuses to open a board that does not exist, naming how to create it", () => {
    const loc = home();
    expect(() => openBoardDatabase(loc, "ghost", quiet)).toThrow(
      "board 'ghost' does not exist. Create it with `kanban boards create ghost`.",
    );
    expect(fs.existsSync(path.join(loc.home, "kanban", "boards", "ghost"))).toBe(false);
  });

  it("opens the default board on a fresh home, creating the home directory", () => {
    const loc = { home: path.join(home().home, "nested", "home") };
    const db = openBoardDatabase(loc, "default", quiet);
    expect(db.path).toBe(path.join(loc.home, "kanban.db"));
    db.close();
  });

  it("reads malformed board.json as defaults and merges partial files", () => {
    const loc = home();
    createBoard(loc, "ops", {}, quiet);
    const file = path.join(loc.home, "kanban", "boards", "ops", "board.json");
    fs.writeFileSync(file, "{not json");
    expect(readBoardMetadata(loc, "ops")).toMatchObject({ slug: "ops", name: "Ops", archived: false });
    fs.writeFileSync(file, JSON.stringify({ slug: "other", icon: "🚀", extra: 1 }));
    expect(readBoardMetadata(loc, "ops")).toMatchObject({ slug: "ops", icon: "🚀", name: "Ops", extra: 1 });
  });

  it("updates only the given metadata fields; an empty default_workdir clears it", () => {
    const loc = home();
    createBoard(loc, "ops", { default_workdir: "/srv/repo", color: "red" }, quiet);
    const m = writeBoardMetadata(loc, "ops", { name: "" });
    expect(m).toMatchObject({ name: "Ops", color: "red", default_workdir: "/srv/repo" });
    expect(writeBoardMetadata(loc, "ops", { default_workdir: "" }).default_workdir).toBeNull();
  });

  it("lists default first then the rest case-insensitively, optionally without archived ones", () => {
    const loc = home();
    createBoard(loc, "zeta", {}, quiet);
    createBoard(loc, "alpha", { archived: true }, quiet);
    fs.mkdirSync(path.join(loc.home, "kanban", "boards", "not-a-board"), { recursive: true });
    expect(listBoards(loc).map((b) => b.slug)).toEqual(["default", "alpha", "zeta"]);
    expect(listBoards(loc, { includeArchived: false }).map((b) => b.slug)).toEqual(["default", "zeta"]);
  });

  it("resolves the current board: override, then KANBAN_BOARD, then the current file, then default", () => {
    const loc = home();
    createBoard(loc, "a", {}, quiet);
    createBoard(loc, "b", {}, quiet);
    createBoard(loc, "c", {}, quiet);
    expect(currentBoard(loc)).toBe("default");
    setCurrentBoard(loc, "c");
    expect(currentBoard(loc)).toBe("c");
    fs.writeFileSync(path.join(loc.home, "kanban", "current"), "\uFEFFb\n");
    expect(currentBoard(loc)).toBe("b");
    expect(currentBoard({ ...loc, envBoard: "a" })).toBe("a");
    expect(currentBoard({ ...loc, envBoard: "a" }, "c")).toBe("c");
    expect(currentBoard({ ...loc, envBoard: "gone" }, "BAD SLUG")).toBe("b");
  });

  it("archives a board into _archived/<slug>-<ts> and never removes default", () => {
    const loc = home();
    createBoard(loc, "ops", {}, quiet);
    setCurrentBoard(loc, "ops");
    const r = removeBoard(loc, "ops", { nowSeconds: 1234 });
    expect(r).toEqual({
      slug: "ops",
      action: "archived",
      new_path: path.join(loc.home, "kanban", "boards", "_archived", "ops-1234"),
    });
    expect(fs.existsSync(path.join(r.new_path as string, "kanban.db"))).toBe(true);
    expect(currentBoard(loc)).toBe("default");
    expect(fs.existsSync(path.join(loc.home, "kanban", "current"))).toBe(false);
    createBoard(loc, "ops", {}, quiet);
    expect(removeBoard(loc, "ops", { nowSeconds: 1234 }).new_path).toMatch(/ops-1234-1$/);
    createBoard(loc, "tmp", {}, quiet);
    expect(removeBoard(loc, "tmp", { archive: false })).toEqual({ slug: "tmp", action: "deleted", new_path: null });
    expect(() => removeBoard(loc, "default")).toThrow("the 'default' board cannot be removed");
    expect(() => removeBoard(loc, "nope")).toThrow(KanbanDbError);
  });
});
