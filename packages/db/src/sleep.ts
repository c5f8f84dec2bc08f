const cell = new Int32Array(new SharedArrayBuffer(4));

/**
 * Blocks the thread for `ms`. better-sqlite3 is synchronous, so the places that wait for a lock
 * (the init lock, busy retries) cannot yield to the event loop without changing every caller's
 * signature; these waits are bounded and rare.
 */
export function sleepSync(ms: number): void {
  if (ms > 0) Atomics.wait(cell, 0, 0, ms);
}
