import { type HomeConfigReader, homeConfigReader } from "@kanban/db";

const configReaders = new Map<string, HomeConfigReader>();

/**
 * One config.json reader per home for this process. It stats the file on every call (a few µs), so
 * an edit applies at once, and an invalid edit leaves the last valid settings (or the defaults) in
 * force instead of failing every request: the error itself is shown by `config.get` and the board.
 */
export function processConfigReader(home: string): HomeConfigReader {
  let reader = configReaders.get(home);
  if (!reader) {
    reader = homeConfigReader(home, { minIntervalMs: 0 });
    configReaders.set(home, reader);
  }
  return reader;
}
