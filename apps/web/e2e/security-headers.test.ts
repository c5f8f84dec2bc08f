import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { baseUrl, type Browser, freshBoard, launch, openBoard } from "./helpers.ts";

/**
 * The production board under its content security policy: it still works (Next's inline bootstrap
 * scripts, styles, the font, the API and its live stream all load, and nothing is refused), and a
 * page of another origin cannot frame it.
 */
let b: Browser;
let framer: http.Server;
let framerUrl = "";

beforeAll(async () => {
  b = await launch();
  // Another origin (another loopback port) whose page tries to frame the board.
  framer = http.createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html" });
    res.end(
      `<!doctype html><title>framer</title><iframe id="victim" src="${baseUrl()}/" width="800" height="600"></iframe>`,
    );
  });
  await new Promise<void>((resolve) => framer.listen(0, "127.0.0.1", resolve));
  framerUrl = `http://127.0.0.1:${(framer.address() as AddressInfo).port}/`;
});
afterAll(async () => {
  await b.close();
  await new Promise<void>((resolve) => framer.close(() => resolve()));
});

describe("the board's security headers in Chromium", () => {
  it("sends X-Frame-Options and a CSP on the page and the API, and the board works under it with no violation", async () => {
    const slug = await freshBoard("csp");
    const page = b.context.pages()[0] ?? (await b.context.newPage());
    const violations: string[] = [];
    await page.exposeFunction("__cspViolation", (v: string) => violations.push(v));
    await page.addInitScript(() => {
      document.addEventListener("securitypolicyviolation", (e) => {
        (window as unknown as { __cspViolation(v: string): void }).__cspViolation(
          `${e.violatedDirective} ${e.blockedURI}`,
        );
      });
    });
    const doc = await page.goto(`${baseUrl()}/?board=${slug}`);
    const headers = doc?.headers() ?? {};
    expect(headers["x-frame-options"]).toBe("DENY");
    expect(headers["content-security-policy"]).toContain("frame-ancestors 'none'");
    await openBoard(b, slug);
    const api = await page.request.get(`${baseUrl()}/api/trpc/config.get`);
    expect(api.headers()["x-frame-options"]).toBe("DENY");
    expect(api.headers()["content-security-policy"]).toContain("frame-ancestors 'none'");
    expect(violations).toEqual([]);
    expect(b.errors).toEqual([]);
  });

  it("a page of another origin cannot frame the board", async () => {
    const page = await b.context.newPage();
    await page.goto(framerUrl);
    const frame = await (await page.locator("#victim").elementHandle())?.contentFrame();
    if (!frame) throw new Error("the framer page has no iframe");
    // Once the navigation settles, Chromium shows its own error page where the board would be.
    await expect.poll(() => frame.url(), { timeout: 10_000 }).not.toBe("about:blank");
    await frame.waitForLoadState();
    expect(frame.url()).toMatch(/^chrome-error:/);
    expect(await frame.locator('[data-testid="board"]').count()).toBe(0);
    await page.close();
  });
});
