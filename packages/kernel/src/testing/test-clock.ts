import type { Clock } from "../clock.ts";

/** A clock that only moves when a test moves it. */
export class TestClock implements Clock {
  private ms: number;
  constructor(startSeconds = 1_750_000_000) {
    this.ms = startSeconds * 1000;
  }
  now(): number {
    return this.ms;
  }
  /** Sets the time, in unix seconds. */
  set(seconds: number): void {
    this.ms = seconds * 1000;
  }
  /** Moves time forward by `seconds`. */
  advance(seconds: number): void {
    this.ms += seconds * 1000;
  }
  get seconds(): number {
    return Math.floor(this.ms / 1000);
  }
}
