/**
 * The kernel's only source of time. Every timestamp the kernel writes is `nowSeconds(clock)`, unix
 * epoch seconds as Hermes stores them; tests drive a `TestClock` by hand.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export function nowSeconds(clock: Clock): number {
  return Math.floor(clock.now() / 1000);
}
