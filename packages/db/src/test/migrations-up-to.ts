import fs from "node:fs";
import path from "node:path";
import { defaultMigrationsFolder } from "../migrations-folder.ts";

/**
 * A copy (in `dir`) of the committed migrations up to and including `lastTag`: what an older release
 * applied. Opening a board with it leaves the board as that release did.
 */
export function migrationsUpTo(dir: string, lastTag: string): string {
  const target = path.join(dir, "drizzle");
  fs.cpSync(defaultMigrationsFolder(), target, { recursive: true });
  const journalPath = path.join(target, "meta", "_journal.json");
  const journal = JSON.parse(fs.readFileSync(journalPath, "utf8")) as { entries: { idx: number; tag: string }[] };
  const last = journal.entries.findIndex((e) => e.tag === lastTag);
  if (last < 0) throw new Error(`no migration tagged ${lastTag}`);
  journal.entries = journal.entries.slice(0, last + 1);
  fs.writeFileSync(journalPath, JSON.stringify(journal));
  return target;
}
