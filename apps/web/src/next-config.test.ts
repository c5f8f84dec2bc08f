import { describe, expect, it, vi } from "vitest";
import config from "../next.config.ts";

/** The headers Next adds to every response of the board (pages and /api/trpc alike). */
async function headersFor(nodeEnv: string): Promise<Record<string, string>> {
  const before = process.env.NODE_ENV;
  (process.env as Record<string, string>).NODE_ENV = nodeEnv;
  try {
    const rules = (await config.headers?.()) ?? [];
    const all = rules.find((r) => r.source === "/:path*");
    return Object.fromEntries((all?.headers ?? []).map((h) => [h.key.toLowerCase(), h.value]));
  } finally {
    (process.env as Record<string, string | undefined>).NODE_ENV = before;
  }
}

describe("next.config security headers", () => {
  it("forbid framing the board on every path, with a CSP that keeps everything on the board's origin", async () => {
    const h = await headersFor("production");
    expect(h["x-frame-options"]).toBe("DENY");
    expect(h["x-content-type-options"]).toBe("nosniff");
    const csp = Object.fromEntries(
      (h["content-security-policy"] ?? "")
        .split(";")
        .map((d) => d.trim().split(/\s+/))
        .map(([k, ...v]) => [k, v]),
    );
    expect(csp["frame-ancestors"]).toEqual(["'none'"]);
    expect(csp["default-src"]).toEqual(["'self'"]);
    expect(csp["connect-src"]).toEqual(["'self'"]);
    expect(csp["object-src"]).toEqual(["'none'"]);
    // Production never allows eval; Next's inline bootstrap scripts need 'unsafe-inline'.
    expect(csp["script-src"]).toEqual(["'self'", "'unsafe-inline'"]);
  });

  it("lets the dev server evaluate code and open its reload socket, production not", async () => {
    const dev = await headersFor("development");
    expect(dev["content-security-policy"]).toContain("'unsafe-eval'");
    expect(dev["content-security-policy"]).toContain("frame-ancestors 'none'");
    expect((await headersFor("production"))["content-security-policy"]).not.toContain("unsafe-eval");
  });
});

/** next.config's `typescript.ignoreBuildErrors`, evaluated afresh with KANBAN_WEB_TYPES_CHECKED as given. */
async function skipsTypeCheck(value: string | undefined): Promise<boolean | undefined> {
  const before = process.env.KANBAN_WEB_TYPES_CHECKED;
  if (value === undefined) delete process.env.KANBAN_WEB_TYPES_CHECKED;
  else process.env.KANBAN_WEB_TYPES_CHECKED = value;
  try {
    vi.resetModules();
    const fresh = (await import("../next.config.ts")).default;
    return fresh.typescript?.ignoreBuildErrors;
  } finally {
    if (before === undefined) delete process.env.KANBAN_WEB_TYPES_CHECKED;
    else process.env.KANBAN_WEB_TYPES_CHECKED = before;
  }
}

describe("next.config type check", () => {
  it("a build checks the board's types, unless npm test says it has just checked them", async () => {
    expect(await skipsTypeCheck(undefined)).toBe(false);
    expect(await skipsTypeCheck("0")).toBe(false);
    expect(await skipsTypeCheck("yes")).toBe(false);
    expect(await skipsTypeCheck("1")).toBe(true);
  });
});
