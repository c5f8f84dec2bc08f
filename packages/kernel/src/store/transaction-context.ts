import { AsyncLocalStorage } from "node:async_hooks";

/**
 * The transaction a call chain is inside, for one kind of session (SQLite's and PostgreSQL's each
 * keep one), with the count of outermost transactions open on every session of that kind.
 *
 * While the count is 0 nobody can be inside a transaction, so the storage is disabled: on Node 20
 * an enabled AsyncLocalStorage runs promise hooks on every promise and every await of the whole
 * process (the HTTP stack's and the database driver's included), and a fleet's steady claims and
 * completions open no transaction of this kind. It is disabled from a macrotask once the count
 * reaches 0, not at each commit, because a caller writing in a loop would otherwise toggle V8's
 * promise hooks twice per transaction (about 2 µs). The next `run` enables it again.
 */
export class TransactionContext<Token> {
  private readonly storage = new AsyncLocalStorage<Token>();
  private open = 0;
  private disableScheduled = false;
  private enabled = false;

  /** The token of the transaction the current call chain runs in, if any (it may have closed since). */
  current(): Token | undefined {
    return this.storage.getStore();
  }

  /** Runs `fn` with `token` as the current transaction of everything it starts. */
  run<T>(token: Token, fn: () => T): T {
    return this.storage.run(token, fn);
  }

  /** An outermost transaction has begun (or is queued for its lock); pair with `ended`. */
  began(): void {
    this.open++;
    this.enabled = true;
  }

  /** An outermost transaction has ended; the last one to end schedules the storage's disabling. */
  ended(): void {
    if (--this.open === 0 && !this.disableScheduled) {
      this.disableScheduled = true;
      setImmediate(() => this.disableIfIdle());
    }
  }

  /** Whether the storage is being tracked now (for the sessions' tests). */
  get tracked(): boolean {
    return this.enabled;
  }

  private disableIfIdle(): void {
    this.disableScheduled = false;
    // Every token is closed now, so nothing the disabled storage forgets could count as inside.
    if (this.open === 0) {
      this.storage.disable();
      this.enabled = false;
    }
  }
}
