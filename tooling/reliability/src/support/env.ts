import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { cleanChildEnv } from "@kanban/db/testing";

/** The environment for a process a test starts (cleanChildEnv, without CHAOS_* either), plus `extra`. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { ...cleanChildEnv(["CHAOS_"]), ...extra };
}

export interface TempHome {
  /** The KANBAN_HOME of the test. */
  home: string;
  /** Its parent, created for the test too: path traversal out of the home lands here, where a test can see it. */
  outer: string;
  env: Record<string, string>;
  writeConfig(config: Record<string, unknown>): void;
  cleanup(): void;
}

/**
 * A fresh KANBAN_HOME (inside a fresh directory of its own) with `config` as its config.json.
 * Small intervals and graces live there, as an operator would set them.
 */
export function makeHome(prefix: string, config: Record<string, unknown> = {}): TempHome {
  const outer = fs.mkdtempSync(path.join(os.tmpdir(), `kanban-rel-${prefix}-`));
  const home = path.join(outer, "home");
  fs.mkdirSync(home);
  const env = cleanEnv({ KANBAN_HOME: home, HERMES_HOME: path.join(outer, "hermes-home") });
  const writeConfig = (c: Record<string, unknown>) =>
    fs.writeFileSync(path.join(home, "config.json"), JSON.stringify(c, null, 2));
  writeConfig(config);
  return { home, outer, env, writeConfig, cleanup: () => fs.rmSync(outer, { recursive: true, force: true }) };
}

/** Polls `check` until it returns a truthy value; throws naming `label` when the deadline passes. */
export async function waitFor<T>(
  check: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  label: string,
  timeoutMs = 10_000,
  everyMs = 50,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${label}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * Waits until `left()` is 0. It fails only when the count has not gone down for `stallMs`: a hang
 * guard that does not bound how fast a loaded machine gets through the work. Returns the time taken.
 */
export async function waitUntilNoneLeft(
  left: () => number,
  label: string,
  stallMs: number,
  everyMs = 100,
): Promise<number> {
  const started = Date.now();
  let fewest = Number.POSITIVE_INFINITY;
  let lastProgress = started;
  for (;;) {
    const n = left();
    if (n === 0) return Date.now() - started;
    if (n < fewest) {
      fewest = n;
      lastProgress = Date.now();
    } else if (Date.now() - lastProgress > stallMs) {
      throw new Error(`${label}: ${n} left, and none finished in the last ${stallMs} ms`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A pause of a random length, for chaos schedules (never used to wait for a condition). */
export function jitter(minMs: number, maxMs: number): Promise<void> {
  return new Promise((r) => setTimeout(r, minMs + Math.random() * (maxMs - minMs)));
}
