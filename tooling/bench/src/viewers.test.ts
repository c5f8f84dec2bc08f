import { describe, expect, it } from "vitest";
import { type ViewerRow, type ViewersResult, viewersMarkdownRows } from "./viewers.ts";

function row(protocol: ViewerRow["protocol"], covered: number, p50: number, p99: number): ViewerRow {
  return {
    protocol,
    viewers: 100,
    transitions: 400,
    seconds: 20,
    api_cpu_share: 0.5,
    bytes_per_viewer_per_min: 2048,
    freshness_p50_ms: p50,
    freshness_p99_ms: p99,
    covered,
    board_reads: 0,
  };
}

describe("viewersMarkdownRows", () => {
  it("shows each protocol's freshness, and says so when no write reached every viewer instead of NaN", () => {
    const r: ViewersResult = {
      tasks: 10_000,
      rate_per_s: 20,
      rows: [row("refetch", 0, Number.NaN, Number.NaN), row("deltas", 400, 223, 356)],
      cpu_ratio: 0.9,
      bytes_ratio: 0.46,
    };
    const [line] = viewersMarkdownRows(r);
    expect(line).toContain("freshness p50 223 / p99 356 ms (400/400 covered)");
    expect(line).toContain(
      "refetch protocol, same run: API CPU 50 % of a core, 2 KiB per viewer per min, no write reached every viewer (0/400 covered)",
    );
    expect(line).not.toContain("NaN");
  });
});
