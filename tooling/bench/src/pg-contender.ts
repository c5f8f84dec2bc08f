/**
 * One job queue on PostgreSQL measured by the `pg-queues` scenario. Adding a contender is writing one
 * of these (usually with {@link pullContender}) and listing it in `pg-queues.ts`.
 *
 * The scenario gives each (contender, worker count) its own fresh database on the same server, so
 * one contender's leftovers (dead tuples, its schema, its listeners) never slow another down.
 */
export interface PgContender {
  /** Row label: the product and its version, e.g. `pg-boss 12.38.1`. */
  name: string;
  /** What one timed cycle is, in one line (the README and the JSON say it). */
  cycle: string;
  /**
   * The product and version alone (`name` without any configuration note), so two configurations of
   * one product can be told apart and paired; default: `name`.
   */
  product?: string;
  /** The connections its workers share (the pool it opens for them), when it has one. */
  pool?: number;
  /** Installs the contender's schema on an empty database (`url`) and opens what it needs. Not timed. */
  setup(url: string): Promise<PgContenderSession>;
}

export interface PgContenderSession {
  /** Adds `n` jobs, every one runnable at once, in bulk if the product can. Not timed. */
  enqueue(n: number): Promise<void>;
  /**
   * Prepares `workers` concurrent workers (connections, instances: not timed) and returns the timed
   * part: it fetches and completes jobs until none is left and resolves, once the last completion is
   * committed, with the id of every job a worker completed (a job completed twice appears twice).
   * `startedAt` (a `performance.now()` instant) moves the clock's start later when the contender
   * cannot help doing start-up work inside the timed part (a runner that boots when asked to run).
   */
  prepare(workers: number): Promise<() => Promise<{ ids: string[]; startedAt?: number }>>;
  /** Counts, in the database after the drain, what happened to the `n` jobs enqueued. */
  verify(n: number): Promise<PgQueueVerdict>;
  /** Stops workers and closes every connection (the scenario drops the database after). */
  teardown(): Promise<void>;
}

/** What the database says after a drain; a sound run has `completed === n`, the rest 0. */
export interface PgQueueVerdict {
  /** Jobs recorded as completed after exactly one delivery. */
  completed: number;
  /** Jobs not completed (still queued, running or failed). */
  pending: number;
  /** Jobs the database shows were handed out more than once (a retry, a second run). */
  redelivered: number;
}

/** One worker's step: fetch one job and complete it; the job's id, or null when the queue was empty. */
export type PullStep = () => Promise<string | null>;

/**
 * A contender driven the way a pull-based queue is used: each worker is a loop of
 * fetch-one → complete-it, stopping at its first empty fetch (every job is enqueued before the clock
 * starts, so an empty fetch means everything is taken).
 */
export function pullContender(spec: {
  name: string;
  cycle: string;
  product?: string;
  pool?: number;
  setup(url: string): Promise<{
    enqueue(n: number): Promise<void>;
    /** Worker `index`'s step; opening its connection here keeps that out of the timing. */
    worker(index: number): Promise<PullStep>;
    verify(n: number): Promise<PgQueueVerdict>;
    teardown(): Promise<void>;
  }>;
}): PgContender {
  return {
    name: spec.name,
    cycle: spec.cycle,
    product: spec.product,
    pool: spec.pool,
    async setup(url) {
      const s = await spec.setup(url);
      return {
        enqueue: (n) => s.enqueue(n),
        verify: (n) => s.verify(n),
        teardown: () => s.teardown(),
        async prepare(workers) {
          const steps = await Promise.all(Array.from({ length: workers }, (_, i) => s.worker(i)));
          return async () => {
            const ids: string[] = [];
            await Promise.all(
              steps.map(async (step) => {
                for (let id = await step(); id !== null; id = await step()) ids.push(id);
              }),
            );
            return { ids };
          };
        },
      };
    },
  };
}
