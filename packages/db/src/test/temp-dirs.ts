import { afterEach } from "vitest";
import { makeTempDir } from "../testing.ts";

/**
 * `tempDir()` for a test file: each call makes a fresh temporary directory (real files, never
 * :memory:), and every directory made during a test is removed after it.
 */
export function useTempDirs(prefix?: string): () => string {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });
  return () => {
    const t = makeTempDir(prefix);
    cleanups.push(t.cleanup);
    return t.dir;
  };
}
