/**
 * The board deltas of `board.changes` (issue 19), read as few times as the viewers allow:
 *
 * - One read per burst, shared by every subscriber that asks for the same thing while it is fresh: a
 *   board's viewers all receive the watcher's burst at once, so the first to ask reads the delta and
 *   the others await the same promise (the server's cost follows the change, not the number of
 *   viewers). A failed read is forgotten at once, so the next subscriber tries again.
 * - Reads of one view never overlap, and take at most `busyShare` of the server's time: after a read
 *   that took D ms, the view's next read starts no sooner than D × (1 / busyShare − 1) ms later.
 *   Bursts that arrive meanwhile wait, and one read answers all of them (it reads the cards of every
 *   id they touched, as they are when it starts). A delta carries the view's attention rows, which
 *   judge the whole board: on a board with thousands of flagged cards one read costs tens of
 *   milliseconds, and a fleet's bursts came faster than that, so a few viewers kept a core busy. A
 *   cheap read (a few ms) waits a few ms more; a costly one makes its viewers wait longer, never the
 *   server's other callers. Every burst is still answered by a read that started after it arrived.
 */
export class DeltaMemo {
  private readonly entries = new Map<string, { at: number; value: Promise<unknown> }>();
  private readonly views = new Map<string, ViewReads>();
  /** How many reads were made (tests assert one per burst, however many viewers). */
  reads = 0;

  constructor(
    private readonly opts: {
      /** How long an answer is reused: a subscriber a little behind the others still finds it. */
      ttlMs?: number;
      /** The share of the server's time one view's reads may take (0 < share ≤ 1). */
      busyShare?: number;
      /** The most ids one read covers (the delta's own limit, MAX_DELTA_IDS). */
      maxIds?: number;
      now?: () => number;
    } = {},
  ) {}

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  /**
   * The delta of `view` for the burst `burst`, which touched `ids`: the answer already read or being
   * read for the same view and burst, else `read` of these ids (and those of any other burst of the
   * view waiting with them), when the view's turn comes.
   */
  get<T>(view: string, burst: string, ids: readonly string[], read: (ids: string[]) => Promise<T>): Promise<T> {
    const now = this.now();
    const ttl = this.opts.ttlMs ?? 5_000;
    for (const [k, e] of this.entries) if (now - e.at > ttl) this.entries.delete(k);
    for (const [k, v] of this.views)
      if (!v.running && v.timer === null && v.waiting.length === 0 && v.nextAt <= now) this.views.delete(k);
    const key = `${view}|${burst}`;
    const hit = this.entries.get(key);
    if (hit) return hit.value as Promise<T>;
    const value = this.enqueue(view, ids, read);
    this.entries.set(key, { at: now, value });
    value.catch(() => {
      if (this.entries.get(key)?.value === value) this.entries.delete(key);
    });
    return value;
  }

  /** How many answers are kept (tests). */
  get size(): number {
    return this.entries.size;
  }

  private enqueue<T>(view: string, ids: readonly string[], read: (ids: string[]) => Promise<T>): Promise<T> {
    let v = this.views.get(view);
    if (v === undefined) {
      v = { running: false, timer: null, nextAt: 0, waiting: [] };
      this.views.set(view, v);
    }
    const max = this.opts.maxIds ?? Number.POSITIVE_INFINITY;
    return new Promise<T>((resolve, reject) => {
      const q = v as ViewReads;
      let group = q.waiting.at(-1);
      // A burst joins the last waiting read while their ids fit in one delta; else it waits for a read of its own.
      if (group === undefined || countUnion(group.ids, ids) > max) {
        group = { ids: new Set(), answers: [], read: read as (ids: string[]) => Promise<unknown> };
        q.waiting.push(group);
      }
      for (const id of ids) group.ids.add(id);
      group.answers.push({ resolve: resolve as (value: unknown) => void, reject });
      this.schedule(q);
    });
  }

  private schedule(v: ViewReads): void {
    if (v.running || v.timer !== null || v.waiting.length === 0) return;
    const wait = v.nextAt - this.now();
    if (wait <= 0) {
      void this.runNext(v);
      return;
    }
    v.timer = setTimeout(() => {
      v.timer = null;
      void this.runNext(v);
    }, wait);
  }

  private async runNext(v: ViewReads): Promise<void> {
    const group = v.waiting.shift();
    if (group === undefined) return;
    v.running = true;
    this.reads++;
    const started = this.now();
    try {
      const value = await group.read([...group.ids]);
      for (const a of group.answers) a.resolve(value);
    } catch (err) {
      for (const a of group.answers) a.reject(err);
    } finally {
      v.running = false;
      const ended = this.now();
      const share = Math.min(1, Math.max(0.01, this.opts.busyShare ?? 0.25));
      v.nextAt = ended + (ended - started) * (1 / share - 1);
      this.schedule(v);
    }
  }
}

interface ReadGroup {
  ids: Set<string>;
  answers: { resolve(value: unknown): void; reject(err: unknown): void }[];
  read: (ids: string[]) => Promise<unknown>;
}

interface ViewReads {
  running: boolean;
  timer: NodeJS.Timeout | null;
  /** When the view's next read may start (ms, the memo's clock). */
  nextAt: number;
  /** Reads waiting for their turn, oldest first. */
  waiting: ReadGroup[];
}

/** How many ids `a` and `b` hold together. */
function countUnion(a: ReadonlySet<string>, b: readonly string[]): number {
  let n = a.size;
  for (const id of b) if (!a.has(id)) n++;
  return n;
}
