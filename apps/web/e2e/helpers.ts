import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createKanbanClient, type KanbanClient } from "@kanban/api/client";
import { type BrowserContext, chromium, type Locator, type Page } from "playwright-core";
import { expect, inject, onTestFailed } from "vitest";
import { REPO_ROOT, SCREENSHOT_DIR } from "./env.ts";

export function baseUrl(): string {
  return inject("baseUrl");
}

export function kanbanHome(): string {
  return inject("kanbanHome");
}

/** A typed API client on the running server, as a worker or the CLI would use it. */
export function api(url: string = baseUrl()): KanbanClient {
  return createKanbanClient({ url: `${url}/api/trpc` });
}

/** A board of this test's own, so tests never see each other's cards. */
export async function freshBoard(name: string): Promise<string> {
  const slug = `${name}-${Math.random().toString(36).slice(2, 7)}`;
  await api().boards.create.mutate({ slug, name });
  return slug;
}

export interface Browser {
  context: BrowserContext;
  /** Uncaught page errors seen so far (a test asserts there were none). */
  errors: string[];
  close(): Promise<void>;
}

/**
 * A fresh browser context for a test file (its own cookies, storage and pages) in the run's one
 * headless chromium (global-setup.ts), as a new profile of its own would be.
 */
export async function launch(opts: { colorScheme?: "light" | "dark" } = {}): Promise<Browser> {
  const browser = await chromium.connect(inject("browserWs"));
  const context = await browser.newContext({
    viewport: { width: 1600, height: 900 },
    colorScheme: opts.colorScheme ?? "light",
  });
  const errors: string[] = [];
  const watch = (page: Page) => {
    page.on("pageerror", (e) => errors.push(e.message));
    page.on("console", (m) => {
      // A refused move or an unreachable server shows up as a failed request: expected, and shown to the person.
      if (m.type() === "error" && !/Failed to load resource|ERR_CONNECTION_REFUSED|EventSource/.test(m.text()))
        errors.push(`console: ${m.text()}`);
    });
  };
  context.on("page", watch);
  return {
    context,
    errors,
    close: async () => {
      await context.close();
      await browser.close();
    },
  };
}

/** Opens a board (and optionally a task) and waits until its columns are drawn and live. */
export async function openBoard(b: Browser, slug: string, extra = ""): Promise<Page> {
  const page = b.context.pages()[0] ?? (await b.context.newPage());
  await page.goto(`${baseUrl()}/?board=${encodeURIComponent(slug)}${extra}`);
  await page.locator(`[data-testid="board"][data-board="${slug}"]`).waitFor();
  await expect.poll(() => page.getByTestId("live-status").getAttribute("data-state"), { timeout: 10_000 }).toBe("live");
  return page;
}

/** Saves the page for the docs as docs/screenshots/<name>.png. */
export async function shot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`) });
}

export function card(page: Page, id: string): Locator {
  return page.getByTestId(`card-${id}`);
}

export function column(page: Page, status: string): Locator {
  return page.getByTestId(`column-${status}`);
}

/** Drags with real pointer events (what dnd-kit's pointer sensor listens to). */
export async function dragTo(page: Page, source: Locator, target: Locator | (() => Locator)): Promise<void> {
  const targetLocator = () => (typeof target === "function" ? target() : target);
  const s = await source.boundingBox();
  if (!s) throw new Error("drag source is not visible");
  const sx = s.x + s.width / 2;
  const sy = s.y + Math.min(s.height / 2, 30);
  await page.mouse.move(sx, sy);
  await page.mouse.down();
  await page.mouse.move(sx + 12, sy + 12, { steps: 4 });
  const t = await targetLocator().boundingBox();
  if (!t) throw new Error("drop target is not visible");
  await page.mouse.move(t.x + t.width / 2, t.y + Math.min(t.height / 2, 160), { steps: 12 });
  // dnd-kit settles what is under the pointer in a render after the move: drop only once the
  // target says it is the one (otherwise a busy machine drops onto the previous target).
  await targetLocator().and(page.locator("[data-over]")).waitFor();
  await page.mouse.up();
}

/** Polls until `fn` returns a truthy value, or fails after `timeoutMs` naming `what`. */
export async function waitUntil<T>(fn: () => Promise<T> | T, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** When the process exited (its writes are committed by then). */
  exitedAt: number;
}

/** Runs a Node script from the repository root against the test's KANBAN_HOME. */
export function runNode(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: REPO_ROOT,
      env: { ...process.env, KANBAN_HOME: kanbanHome(), ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("error", reject);
    child.on("exit", (code) => resolve({ code, stdout, stderr, exitedAt: Date.now() }));
  });
}

/** The CLI, run from source, working on the boards directly (no server). */
export function cli(args: string[]): Promise<Run> {
  return runNode([path.join(REPO_ROOT, "apps", "cli", "bin", "kanban.mjs"), ...args]);
}

export function noPageErrors(b: Browser): void {
  expect(b.errors).toEqual([]);
}

/**
 * On failure, saves what the page looked like (and the toasts it showed) next to the temporary
 * files, and names the file in the test output: the first thing to look at when CI fails.
 */
export function captureOnFailure(b: Browser, name: string): void {
  onTestFailed(async () => {
    const page = b.context.pages()[0];
    if (!page) return;
    const file = path.join(os.tmpdir(), `kanban-e2e-failure-${name}-${Date.now()}.png`);
    await page.screenshot({ path: file }).catch(() => {});
    const toasts = await page
      .getByTestId("toast")
      .allTextContents()
      .catch(() => []);
    process.stderr.write(`e2e failure screenshot: ${file}${toasts.length ? `; toasts: ${toasts.join(" | ")}` : ""}\n`);
  });
}
