import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { redactSecrets } from "@kanban/contract";
import { afterAll, describe, expect, it } from "vitest";
import { readLogTail } from "./log-tail.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kanban-log-tail-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function logOf(content: string): string {
  const file = path.join(dir, `${Math.random().toString(36).slice(2)}.log`);
  fs.writeFileSync(file, content);
  return file;
}

describe("readLogTail", () => {
  it("reads the last bytes, and null for a log that is not there", () => {
    expect(readLogTail(logOf("one\ntwo\nthree\n"), 6)).toBe("three\n");
    expect(readLogTail(logOf("short\n"), 4096)).toBe("short\n");
    expect(readLogTail(path.join(dir, "missing.log"), 10)).toBeNull();
  });

  it("a cut inside a secret moves back to where it begins, so the redacted tail keeps no piece of it", () => {
    const key = "sk-ant-api03-ZYXWVUTSRQPONMLKJIHG";
    const known = "plain-words-from-the-profile";
    const file = logOf(`${"x".repeat(5000)} ${key} ${known} done\n`);
    const size = fs.statSync(file).size;
    // Any 6 characters of either would be a piece of it.
    const pieces = [key, known].flatMap((s) => Array.from({ length: s.length - 5 }, (_, i) => s.slice(i, i + 6)));
    // Every cut through the key or the known value, and a few around them.
    for (let max = 20; max <= 80; max++) {
      const tail = readLogTail(file, max, [known]) as string;
      const redacted = redactSecrets(tail, [known]);
      expect(
        pieces.filter((p) => redacted.includes(p)),
        `max ${max}`,
      ).toEqual([]);
      expect(tail.length).toBeGreaterThanOrEqual(Math.min(max, size));
    }
  });

  it("a cut inside a character moves on to the next one", () => {
    const tail = readLogTail(logOf("é€😀".repeat(100)), 10) as string;
    expect(tail).not.toContain("\uFFFD");
    expect("é€😀".repeat(100).endsWith(tail)).toBe(true);
  });
});
