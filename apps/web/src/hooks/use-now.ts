"use client";

import { useSyncExternalStore } from "react";
import { SkewEstimator } from "../lib/clock.ts";

/**
 * One shared clock for every card that shows a countdown, in the server's unix seconds: the
 * skew between this browser and the server is learnt from each board load (lib/clock.ts), so lease
 * countdowns, heartbeat ages and hosts' last-seen ages agree with what the server decides.
 */
const estimator = new SkewEstimator();
let skewSeconds = 0;
let nowValue = Math.floor(Date.now() / 1000);
const listeners = new Set<() => void>();
let timer: ReturnType<typeof setInterval> | null = null;

function tick() {
  const next = Math.floor(Date.now() / 1000 + skewSeconds);
  if (next !== nowValue) {
    nowValue = next;
    for (const l of listeners) l();
  }
}

function subscribe(listener: () => void) {
  listeners.add(listener);
  if (timer === null) timer = setInterval(tick, 1000);
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0 && timer !== null) {
      clearInterval(timer);
      timer = null;
    }
  };
}

/** Called with the `now` of each board response. */
export function learnServerNow(serverNow: number): void {
  skewSeconds = estimator.learn(serverNow, Date.now());
  tick();
}

/** The server's current time in unix seconds, re-rendering once a second. */
export function useNow(): number {
  return useSyncExternalStore(
    subscribe,
    () => nowValue,
    () => nowValue,
  );
}
