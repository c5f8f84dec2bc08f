import { describe, expect, it } from "vitest";
import { DISPLAY_NAME_KEY, normaliseDisplayName, readDisplayName, writeDisplayName } from "./display-name.ts";

class MemoryStorage {
  items = new Map<string, string>();
  getItem(k: string): string | null {
    return this.items.get(k) ?? null;
  }
  setItem(k: string, v: string): void {
    this.items.set(k, v);
  }
}

describe("display name", () => {
  it("trims and collapses spaces; refuses empty, over-long and control characters", () => {
    expect(normaliseDisplayName("  Ada   Lovelace ")).toBe("Ada Lovelace");
    expect(normaliseDisplayName("   ")).toBeNull();
    expect(normaliseDisplayName("x".repeat(65))).toBeNull();
    expect(normaliseDisplayName("a\u0007b")).toBeNull();
  });
  it("is stored once per browser and read back; a broken stored value counts as none", () => {
    const s = new MemoryStorage();
    expect(readDisplayName(s)).toBeNull();
    writeDisplayName(s, "Ada");
    expect(s.items.get(DISPLAY_NAME_KEY)).toBe("Ada");
    expect(readDisplayName(s)).toBe("Ada");
    s.setItem(DISPLAY_NAME_KEY, "   ");
    expect(readDisplayName(s)).toBeNull();
    expect(readDisplayName(null)).toBeNull();
  });
});
