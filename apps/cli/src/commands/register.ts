import type { Command } from "commander";
import type { Deps } from "../deps.ts";

/**
 * Wraps a run function as a commander action: commander's trailing Command argument is dropped,
 * the shared deps are passed first, and the returned exit code is recorded for main.
 */
export type Act = <P extends unknown[]>(
  fn: (deps: Deps, ...args: P) => Promise<number>,
) => (...args: unknown[]) => Promise<void>;

/** One verb (or a small group): declares arguments, options and help, and hands over to a run function. */
export type Register = (program: Command, act: Act) => void;
