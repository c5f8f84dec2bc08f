import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { HomeConfig } from "./home-config.ts";

/**
 * Which worker profiles exist on this host: the one answer the dispatcher (what it may spawn), the
 * API (the create dialog's warning) and the diagnostics (a card no worker will ever pick up) share.
 *
 * - config.json names profiles: exactly those.
 * - none configured (the built-in Hermes runtime): `default`, plus every Hermes profile on disk,
 *   `<hermes home>/profiles/<name>/config.yaml`, as Hermes' own `profile_exists` decides.
 */
const PROFILE_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** `HERMES_HOME`, else `~/.hermes` (resolved). */
export function hermesHomeFromEnv(env: Record<string, string | undefined>): string {
  const raw = env.HERMES_HOME?.trim();
  return path.resolve(raw ? raw : path.join(os.homedir(), ".hermes"));
}

/** Whether `name` is a Hermes profile under `hermesHome` (`default` always is). */
export function hermesProfileExists(hermesHome: string, name: string): boolean {
  if (name === "default") return true;
  if (!PROFILE_NAME.test(name)) return false;
  return fs.existsSync(path.join(hermesHome, "profiles", name, "config.yaml"));
}

/** Every Hermes profile under `hermesHome`, sorted, `default` included. */
export function listHermesProfiles(hermesHome: string): string[] {
  const names = new Set(["default"]);
  let entries: string[] = [];
  try {
    entries = fs.readdirSync(path.join(hermesHome, "profiles"));
  } catch {
    // no profiles directory: only `default`
  }
  for (const name of entries) if (hermesProfileExists(hermesHome, name)) names.add(name);
  return [...names].sort();
}

export interface KnownProfiles {
  /** Where the names come from: config.json's `profiles`, or the Hermes installation on disk. */
  source: "config" | "hermes";
  names: string[];
  /** The Hermes home that was read (source `hermes`), for messages. */
  hermesHome: string | null;
}

/** The profiles a worker can be spawned for, given config.json and the Hermes home. */
export function knownProfiles(config: Pick<HomeConfig, "profiles">, hermesHome: string): KnownProfiles {
  const configured = Object.keys(config.profiles);
  if (configured.length > 0) return { source: "config", names: configured.sort(), hermesHome: null };
  return { source: "hermes", names: listHermesProfiles(hermesHome), hermesHome };
}
