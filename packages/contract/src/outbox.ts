import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

/**
 * The completion outbox of a remote host (issue 15): a worker's terminal call (`kanban complete` /
 * `kanban block` on its own task) is written to the host's disk BEFORE it is sent, and stays there
 * until the server has given a definitive answer, so that neither a network cut, a server restart
 * nor a host restart loses it. The CLI writes and sends it once; the host's flusher re-sends what is
 * still pending. The server treats a re-sent terminal call of the same run as the same call
 * (replay), and records a refused one as a late report: sending twice is always safe.
 *
 * One JSON file per (run, verb): `<outbox>/<run_id>-<verb>.json`, mode 0600 (it holds the run's
 * token), written atomically (temporary file, fsync, rename, directory fsync). Delivered entries
 * move to `<outbox>/delivered/` with the server's `answer`. This file is shared by the CLI and the
 * dispatcher (neither may import the other), so it imports Node built-ins only; it is a subpath
 * export (`@kanban/contract/outbox`), never part of the browser's `@kanban/contract`.
 */

export const OUTBOX_VERSION = 1;
export const OUTBOX_VERBS = ["complete", "block"] as const;
export type OutboxVerb = (typeof OUTBOX_VERBS)[number];
/** The folder of delivered entries, inside the outbox. */
export const DELIVERED_DIR = "delivered";

export interface OutboxEntry {
  v: typeof OUTBOX_VERSION;
  verb: OutboxVerb;
  /** The tRPC endpoint the call goes to (`http://host:4100/trpc`). */
  url: string;
  /** The run's own token (`kbr1.`), sent as the bearer; never printed. */
  token: string | null;
  board: string | null;
  task_id: string;
  run_id: number;
  /** The exact tRPC input of `tasks.<verb>`, `expected_run_id` included. */
  input: Record<string, unknown>;
  /** Epoch seconds. */
  created_at: number;
}

/** What the server said, once it said something definitive. */
/**
 * The server's answer to a delivered entry. `gated`: a completion the board did not make done, because
 * the card waits in review at that stage of its completion gates (commands, reviewer, approval).
 */
export type OutboxAnswer =
  | { ok: true; replayed?: boolean; gated?: string }
  | { ok: false; code: string; message: string };

export interface DeliveredEntry extends OutboxEntry {
  answer: OutboxAnswer;
  delivered_at: number;
}

/** One send: `delivered` (a definitive answer, kept) or `pending` (try again later: network, timeout, 5xx). */
export type SendResult = { state: "delivered"; answer: OutboxAnswer } | { state: "pending"; reason: string };

/** The little of `fetch` a send needs (the global fetch, or the CLI's node:http one). */
export type OutboxFetch = (
  url: string,
  init: { method: string; headers: Record<string, string>; body: string; signal?: AbortSignal | null },
) => Promise<{ status: number; text(): Promise<string> }>;

export class OutboxError extends Error {
  override readonly name = "OutboxError";
  readonly code = "OUTBOX_INVALID";
}

export function outboxFileName(runId: number, verb: OutboxVerb): string {
  return `${runId}-${verb}.json`;
}

const FILE_NAME = /^(\d{1,15})-(complete|block)\.json$/;

function fsyncDir(dir: string): void {
  let fd: number | null = null;
  try {
    fd = fs.openSync(dir, "r");
    fs.fsyncSync(fd);
  } catch {
    // some file systems cannot fsync a directory; the rename is still atomic
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}

/** Writes `data` to `file` atomically and durably, mode 0600. */
function writeAtomic(file: string, data: string): void {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  const fd = fs.openSync(tmp, "wx", 0o600);
  try {
    fs.writeSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fsyncDir(dir);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Checks a parsed entry; throws {@link OutboxError} naming what is wrong (never the token). */
export function parseOutboxEntry(value: unknown): OutboxEntry {
  const bad = (what: string) => new OutboxError(`invalid outbox entry: ${what}`);
  if (!isRecord(value)) throw bad("not a JSON object");
  if (value.v !== OUTBOX_VERSION) throw bad(`unknown version ${JSON.stringify(value.v)}`);
  if (!OUTBOX_VERBS.includes(value.verb as OutboxVerb)) throw bad("verb must be complete or block");
  if (typeof value.url !== "string" || !/^https?:\/\//.test(value.url)) throw bad("url must be an http(s) URL");
  if (value.token !== null && typeof value.token !== "string") throw bad("token must be a string or null");
  if (value.board !== null && typeof value.board !== "string") throw bad("board must be a string or null");
  if (typeof value.task_id !== "string" || value.task_id === "") throw bad("task_id must be a string");
  if (!Number.isSafeInteger(value.run_id) || (value.run_id as number) < 1) throw bad("run_id must be a run id");
  if (!isRecord(value.input)) throw bad("input must be an object");
  if (typeof value.created_at !== "number") throw bad("created_at must be a number");
  return {
    v: OUTBOX_VERSION,
    verb: value.verb as OutboxVerb,
    url: value.url,
    token: value.token as string | null,
    board: value.board as string | null,
    task_id: value.task_id,
    run_id: value.run_id as number,
    input: value.input,
    created_at: value.created_at,
  };
}

/** Writes an entry (before it is sent); returns its file. A pending entry of the same run and verb is replaced. */
export function writeOutboxEntry(dir: string, entry: OutboxEntry): string {
  const checked = parseOutboxEntry(entry);
  const file = path.join(dir, outboxFileName(checked.run_id, checked.verb));
  writeAtomic(file, `${JSON.stringify(checked)}\n`);
  return file;
}

/** A pending entry: its file and content. */
export interface PendingEntry {
  file: string;
  entry: OutboxEntry;
}

/**
 * Every pending entry of the outbox, oldest first. A file that cannot be read or parsed is reported
 * through `onBad` (by name) and left in place for a person to look at: never deleted, never sent.
 */
export function listPendingEntries(dir: string, onBad?: (file: string, reason: string) => void): PendingEntry[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const out: PendingEntry[] = [];
  for (const name of names) {
    if (!FILE_NAME.test(name)) continue;
    const file = path.join(dir, name);
    try {
      out.push({ file, entry: parseOutboxEntry(JSON.parse(fs.readFileSync(file, "utf8"))) });
    } catch (err) {
      // Gone meanwhile (delivered by another process) is not a problem.
      if ((err as NodeJS.ErrnoException).code === "ENOENT") continue;
      onBad?.(file, err instanceof Error ? (err.message.split("\n")[0] ?? "") : String(err));
    }
  }
  return out.sort((a, b) => a.entry.created_at - b.entry.created_at || a.entry.run_id - b.entry.run_id);
}

/** The pending entries of one run. */
export function pendingEntriesOf(dir: string, runId: number): PendingEntry[] {
  return OUTBOX_VERBS.flatMap((verb) => {
    const file = path.join(dir, outboxFileName(runId, verb));
    try {
      return [{ file, entry: parseOutboxEntry(JSON.parse(fs.readFileSync(file, "utf8"))) }];
    } catch {
      return [];
    }
  });
}

/** The delivered entries of one run (with the server's answers). */
export function deliveredEntriesOf(dir: string, runId: number): DeliveredEntry[] {
  return OUTBOX_VERBS.flatMap((verb) => {
    try {
      const raw = JSON.parse(fs.readFileSync(path.join(dir, DELIVERED_DIR, outboxFileName(runId, verb)), "utf8"));
      const entry = parseOutboxEntry(raw);
      if (!isRecord(raw.answer)) return [];
      return [{ ...entry, answer: raw.answer as OutboxAnswer, delivered_at: Number(raw.delivered_at) }];
    } catch {
      return [];
    }
  });
}

/**
 * Moves an entry to `delivered/` with the answer: the delivered copy is written first, then the
 * pending file removed, so a crash in between leaves at worst one more (harmless) re-send. Another
 * process that delivered it first is fine.
 */
export function markDelivered(dir: string, entry: OutboxEntry, answer: OutboxAnswer, now: number): void {
  const name = outboxFileName(entry.run_id, entry.verb);
  const delivered: DeliveredEntry = { ...entry, answer, delivered_at: now };
  writeAtomic(path.join(dir, DELIVERED_DIR, name), `${JSON.stringify(delivered)}\n`);
  const pending = path.join(dir, name);
  // Only the entry that was sent is removed: a newer write of the same run and verb stays pending.
  try {
    const current = parseOutboxEntry(JSON.parse(fs.readFileSync(pending, "utf8")));
    if (current.created_at !== entry.created_at || JSON.stringify(current.input) !== JSON.stringify(entry.input))
      return;
    fs.rmSync(pending, { force: true });
    fsyncDir(dir);
  } catch {
    // already gone
  }
}

/**
 * Removes delivered entries delivered more than `maxAgeSeconds` before `now` (they are only a record
 * once the server has answered); returns how many went. Unreadable files are left alone.
 */
export function pruneDelivered(dir: string, maxAgeSeconds: number, now: number): number {
  const folder = path.join(dir, DELIVERED_DIR);
  let names: string[];
  try {
    names = fs.readdirSync(folder);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    if (!FILE_NAME.test(name)) continue;
    const file = path.join(folder, name);
    try {
      const at = Number((JSON.parse(fs.readFileSync(file, "utf8")) as { delivered_at?: unknown }).delivered_at);
      if (Number.isFinite(at) && now - at > maxAgeSeconds) {
        fs.rmSync(file, { force: true });
        removed++;
      }
    } catch {
      // unreadable: left for a person
    }
  }
  return removed;
}

/** The tRPC error body the API answers with (`{"error": {message, data: {code, kanbanCode, httpStatus}}}`). */
function trpcError(body: unknown): { code: string; message: string } | null {
  if (!isRecord(body) || !isRecord(body.error)) return null;
  const e = body.error;
  const data = isRecord(e.data) ? e.data : {};
  const code =
    typeof data.kanbanCode === "string" ? data.kanbanCode : typeof data.code === "string" ? data.code : "ERROR";
  const message = typeof e.message === "string" ? e.message : code;
  return { code, message: message.split("\n")[0] ?? message };
}

/**
 * Sends an entry once: POST `<url>/tasks.<verb>` with its input. A 2xx or a 4xx the API itself
 * answered (409 STALE_RUN, 403, 400…) is definitive; a network error, a timeout, a 408/429, a 5xx
 * or an answer that is not the API's (a proxy's page) leaves it pending. Never throws.
 */
export async function sendOutboxEntry(
  entry: OutboxEntry,
  opts: { fetch?: OutboxFetch; timeoutMs?: number } = {},
): Promise<SendResult> {
  const doFetch: OutboxFetch = opts.fetch ?? (globalThis.fetch as unknown as OutboxFetch);
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (entry.token) headers.authorization = `Bearer ${entry.token}`;
  let status: number;
  let text: string;
  try {
    const res = await doFetch(`${entry.url.replace(/\/+$/, "")}/tasks.${entry.verb}`, {
      method: "POST",
      headers,
      body: JSON.stringify(entry.input),
      signal: AbortSignal.timeout(opts.timeoutMs ?? 15_000),
    });
    status = res.status;
    text = await res.text();
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const reason =
      (err as Error).name === "TimeoutError" ? "timed out" : (cause?.code ?? cause?.message ?? (err as Error).message);
    return { state: "pending", reason: `cannot reach the server (${reason})` };
  }
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: judged by the status below
  }
  if (status >= 200 && status < 300) {
    const data = isRecord(body) && isRecord(body.result) ? body.result.data : null;
    const replayed = isRecord(data) && data.replayed === true;
    const gated = isRecord(data) && typeof data.gated === "string" ? data.gated.slice(0, 40) : null;
    return {
      state: "delivered",
      answer: { ok: true, ...(replayed ? { replayed: true } : {}), ...(gated !== null ? { gated } : {}) },
    };
  }
  const error = trpcError(body);
  if (status >= 400 && status < 500 && status !== 408 && status !== 429 && error !== null)
    return { state: "delivered", answer: { ok: false, ...error } };
  return { state: "pending", reason: `the server answered ${status}${error ? ` (${error.code})` : ""}` };
}

/** Sends a pending entry and, on a definitive answer, moves it to `delivered/`. */
export async function deliverOutboxEntry(
  dir: string,
  entry: OutboxEntry,
  opts: { fetch?: OutboxFetch; timeoutMs?: number; now?: () => number } = {},
): Promise<SendResult> {
  const result = await sendOutboxEntry(entry, opts);
  if (result.state === "delivered")
    markDelivered(dir, entry, result.answer, (opts.now ?? (() => Math.floor(Date.now() / 1000)))());
  return result;
}
