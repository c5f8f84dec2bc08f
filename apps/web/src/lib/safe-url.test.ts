import { describe, expect, it } from "vitest";
import { safeUrl } from "./safe-url.ts";

describe("safeUrl", () => {
  it("keeps http, https and mailto links", () => {
    expect(safeUrl("https://example.org/a?b=c")).toBe("https://example.org/a?b=c");
    expect(safeUrl("HTTP://example.org")).toBe("http://example.org/");
    expect(safeUrl("mailto:ops@example.org")).toBe("mailto:ops@example.org");
  });
  it.each([
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html,<script>",
    "vbscript:x",
    "/relative",
    "//evil.org",
    "",
    "file:///etc/passwd",
    " javascript:alert(1)",
  ])("drops %j", (url) => {
    expect(safeUrl(url)).toBeNull();
  });
});
