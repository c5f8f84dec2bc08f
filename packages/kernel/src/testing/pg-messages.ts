import pg from "pg";
import { vi } from "vitest";

/** Calls `seen` with the text of every message the process sends to PostgreSQL from here on (undone by vi.restoreAllMocks). */
export function onEveryMessage(seen: (text: string) => void): void {
  const original = pg.Client.prototype.query;
  vi.spyOn(pg.Client.prototype, "query").mockImplementation(function (this: pg.Client, ...args: unknown[]) {
    const first = args[0];
    seen(typeof first === "string" ? first : ((first as { text?: string } | undefined)?.text ?? ""));
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  } as never);
}

/**
 * Whether a message is a whole transaction sent as one (PgSession.writeAlone): the board's lock
 * first (its prepared statement, or its text once a pooler lost that), then the statement, with no
 * BEGIN or COMMIT. A transaction begun the ordinary way starts with BEGIN.
 */
export function isWriteAlone(text: string): boolean {
  return /^(EXECUTE kanban_l_\w+|SELECT pg_advisory_xact_lock(_shared)?\(.*\) FROM \(SELECT set_config\('lock_timeout')/s.test(
    text,
  );
}

/**
 * Counts the messages the process sends to PostgreSQL from here on: every `query` of a driver client is
 * one message and one round trip (BEGIN and COMMIT included; an extended-protocol statement's parse,
 * bind and execute too). `alone` counts those that are a whole transaction ({@link isWriteAlone}).
 * Not counted: a connection's one-time PREPARE of a statement sent alone (which connection the pool
 * hands out decides whether there is one), and a live-event announcement owed by an earlier commit and
 * sent on its own timer (when it fires depends on the machine's load). Undone by vi.restoreAllMocks.
 */
export function watchMessages(): { all(): number; alone(): number; take(): number } {
  let all = 0;
  let alone = 0;
  onEveryMessage((text) => {
    const announcedAlone = text.startsWith("SELECT pg_notify(") && !text.endsWith("COMMIT");
    if (text.startsWith("PREPARE ") || announcedAlone) return;
    all++;
    if (isWriteAlone(text)) alone++;
  });
  return {
    all: () => all,
    alone: () => alone,
    /** The messages counted since the last take. */
    take() {
      const out = all;
      all = 0;
      alone = 0;
      return out;
    },
  };
}
