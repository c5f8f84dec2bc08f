import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { forgetInitialised, openDatabase } from "./connection.ts";
import { KanbanDbCorruptError } from "./errors.ts";
import { INTEGRITY_RECHECK_MS, integrityMarkerPath } from "./integrity-marker.ts";
import { defaultMigrationsFolder } from "./migrations-folder.ts";
import { useTempDirs } from "./test/temp-dirs.ts";

// What a short-lived process (one CLI call) pays to open a board that is already up to date.
const tempDir = useTempDirs();
const quiet = { warn: () => {} };

/** A board of 400 tasks, closed, then scribbled over in place (same inode): integrity_check fails on it. */
function corruptInPlace(file: string): void {
  const db = openDatabase({ path: file, ...quiet });
  const insert = db.sqlite.prepare("INSERT INTO tasks (id, title, status, created_at) VALUES (?, ?, 'todo', 1)");
  for (let i = 0; i < 400; i++) insert.run(`t_${i.toString(16).padStart(8, "0")}`, "x".repeat(200));
  db.sqlite.pragma("wal_checkpoint(TRUNCATE)");
  db.close();
  forgetInitialised(file);
  const fd = fs.openSync(file, "r+");
  fs.writeSync(fd, Buffer.alloc(4096 * 6, 0xa5), 0, 4096 * 6, 4096 * 3);
  fs.closeSync(fd);
  fs.rmSync(`${file}-wal`, { force: true });
  fs.rmSync(`${file}-shm`, { force: true });
}

describe("integrity_check on open: once an hour for short-lived processes", () => {
  it("a passed check is recorded beside the file with its device and inode", () => {
    const file = path.join(tempDir(), "kanban.db");
    openDatabase({ path: file, ...quiet }).close();
    forgetInitialised(file);
    expect(fs.existsSync(integrityMarkerPath(file))).toBe(false); // a new file is not checked
    openDatabase({ path: file, ...quiet }).close();
    const rec = JSON.parse(fs.readFileSync(integrityMarkerPath(file), "utf8"));
    const st = fs.statSync(file);
    expect(rec).toMatchObject({ dev: st.dev, ino: st.ino });
    expect(Date.now() - rec.checked_at).toBeLessThan(60_000);
  });

  it('"unless-recent" skips the check while the record is fresh; an old record, or the default policy, checks and finds the damage', () => {
    const file = path.join(tempDir(), "kanban.db");
    corruptInPlace(file);
    // The record as a check an instant before the damage left it.
    fs.writeFileSync(
      integrityMarkerPath(file),
      JSON.stringify({ dev: fs.statSync(file).dev, ino: fs.statSync(file).ino, checked_at: Date.now() }),
    );
    openDatabase({ path: file, ...quiet, integrityCheck: "unless-recent" }).close();
    forgetInitialised(file);
    // The default (long-lived processes) checks at every first open.
    expect(() => openDatabase({ path: file, ...quiet })).toThrow(KanbanDbCorruptError);
    expect(fs.existsSync(integrityMarkerPath(file))).toBe(false); // forgotten: every process checks again
    forgetInitialised(file);
    expect(() => openDatabase({ path: file, ...quiet, integrityCheck: "unless-recent" })).toThrow(KanbanDbCorruptError);
  });

  it("a record older than an hour, or of another file at the same path, does not count", () => {
    const dir = tempDir();
    const file = path.join(dir, "kanban.db");
    corruptInPlace(file);
    const st = fs.statSync(file);
    fs.writeFileSync(
      integrityMarkerPath(file),
      JSON.stringify({ dev: st.dev, ino: st.ino, checked_at: Date.now() - INTEGRITY_RECHECK_MS - 1000 }),
    );
    expect(() => openDatabase({ path: file, ...quiet, integrityCheck: "unless-recent" })).toThrow(KanbanDbCorruptError);
    forgetInitialised(file);
    // A file copied over the path (a restore) has another inode: a fresh record of the old one is void.
    const healthy = path.join(dir, "healthy.db");
    openDatabase({ path: healthy, ...quiet }).close();
    fs.writeFileSync(
      integrityMarkerPath(file),
      JSON.stringify({ dev: st.dev, ino: st.ino + 1, checked_at: Date.now() }),
    );
    expect(() => openDatabase({ path: file, ...quiet, integrityCheck: "unless-recent" })).toThrow(KanbanDbCorruptError);
  });
});

describe("the migration pass on a board that is already current", () => {
  it("reads the journal and leaves: drizzle's migrator (a write transaction) never runs", () => {
    const dir = tempDir();
    const file = path.join(dir, "kanban.db");
    openDatabase({ path: file, ...quiet }).close();
    forgetInitialised(file);
    // A migrations folder whose SQL files are gone: the migrator would fail reading them.
    const folder = path.join(dir, "drizzle");
    fs.cpSync(defaultMigrationsFolder(), folder, { recursive: true });
    for (const f of fs.readdirSync(folder)) if (f.endsWith(".sql")) fs.rmSync(path.join(folder, f));
    const db = openDatabase({ path: file, ...quiet, migrationsFolder: folder });
    expect(db.sqlite.prepare("SELECT count(*) AS n FROM tasks").get()).toEqual({ n: 0 });
    db.close();
    // A board one migration behind still runs it.
    forgetInitialised(file);
    const old = openDatabase({ path: path.join(dir, "old.db"), ...quiet });
    old.sqlite.exec(
      "DELETE FROM __drizzle_migrations WHERE created_at = (SELECT max(created_at) FROM __drizzle_migrations)",
    );
    old.close();
    forgetInitialised(path.join(dir, "old.db"));
    expect(() => openDatabase({ path: path.join(dir, "old.db"), ...quiet, migrationsFolder: folder })).toThrow();
  });
});
