import { type ChildProcess, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type Database from "better-sqlite3";
import { type BrowserContext, chromium, type Locator, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { openReader } from "./support/board-checks.ts";
import { makeHome, type TempHome, waitFor } from "./support/env.ts";
import { CONTROL_TEXTS, SCRIPT_PAYLOADS, UNICODE_TEXTS } from "./support/hostile.ts";
import { type Serve, startKanbanServe } from "./support/kanban-serve.ts";
import { ProcessTracker } from "./support/processes.ts";
import { callProcedure, dataOf, errorOf, type HttpResult, leak } from "./support/trpc-http.ts";

// The page's globals, as far as the functions this file hands to the browser (page.evaluate,
// waitForFunction) use them: the file is type-checked with the Node workspaces, without the DOM library.
declare const window: unknown;
declare const document: {
  images: ArrayLike<{ complete: boolean }>;
  scripts: ArrayLike<{ textContent: string | null }>;
  querySelectorAll(selector: string): ArrayLike<{ getAttribute(name: string): string | null }>;
};

/**
 * Hostile data: markup, megabyte bodies, tricky unicode, control characters, path traversal in
 * workspaces and board slugs. Each value is either stored exactly (and read back byte for byte) or
 * refused with a typed 4xx, never a 500; nothing is written outside the home; and the web board
 * shows all of it as inert text.
 */
const BODY_MAX = 1024 * 1024;

const sha = (s: string) => createHash("sha256").update(s).digest("hex");

/** Either stored exactly or refused with a typed 4xx; never a 5xx, never a leak. Returns whether it was stored. */
function storedOrRefused(r: HttpResult, label: string): boolean {
  expect(r.status, `${label}: ${r.text.slice(0, 300)}`).toBeLessThan(500);
  expect(leak(r.text), label).toBeNull();
  if (r.status === 200) return true;
  expect(r.status, label).toBeGreaterThanOrEqual(400);
  expect(errorOf(r), `${label}: ${r.text.slice(0, 300)}`).not.toBeNull();
  return false;
}

const procs = new ProcessTracker();

describe("hostile data through the API", () => {
  let home: TempHome;
  let serve: Serve;
  let db: Database.Database;
  const call = (p: string, input: unknown) => callProcedure(serve.url, p, "mutation", input);
  const query = (p: string, input: unknown) => callProcedure(serve.url, p, "query", input);

  beforeAll(async () => {
    home = makeHome("hostile-api");
    serve = await startKanbanServe(procs, home.env);
    // The board file exists once the server answered a first request.
    dataOf(await query("tasks.list", {}));
    db = openReader(path.join(home.home, "kanban.db"));
  });
  afterAll(async () => {
    db?.close();
    await procs.killAll();
    home?.cleanup();
  });

  const texts: [string, string][] = [
    ...Object.entries(SCRIPT_PAYLOADS),
    ...Object.entries(UNICODE_TEXTS),
    ...Object.entries(CONTROL_TEXTS),
    ["lone surrogate", "half \ud800 of a pair"],
    ["reversed pair", "\udc00\ud800"],
  ];

  it.each(texts)("%s: as a title, body, comment and result it is stored exactly or refused", async (label, text) => {
    // Titles are trimmed by design (as Hermes does); everything else is kept as sent.
    const title = text.slice(0, 200).trim();
    const created = await call("tasks.create", { title: text.slice(0, 200), body: text, assignee: "alice" });
    if (!storedOrRefused(created, `${label} create`)) return;
    const id = dataOf<{ task: { id: string } }>(created).task.id;
    const detail = dataOf<{ task: { title: string; body: string } }>(await query("tasks.get", { id }));
    expect(detail.task.title, label).toBe(title);
    expect(detail.task.body, label).toBe(text);
    expect(db.prepare("SELECT title, body FROM tasks WHERE id = ?").get(id), label).toEqual({ title, body: text });

    const comment = await call("comments.add", { task_id: id, body: `${text} (comment)`, author: "mallory" });
    if (storedOrRefused(comment, `${label} comment`)) {
      const comments = dataOf<{ comments: { body: string }[] }>(await query("comments.list", { task_id: id }));
      expect(comments.comments.map((c) => c.body)).toEqual([`${text} (comment)`]);
    }
    const claimed = dataOf<{ run_id: number }>(await call("tasks.claim", { id }));
    const done = await call("tasks.complete", { id, expected_run_id: claimed.run_id, result: text, summary: text });
    if (storedOrRefused(done, `${label} complete`)) {
      expect(dataOf<{ task: { result: string } }>(await query("tasks.get", { id })).task.result).toBe(text);
    }
  });

  it("1 MiB bodies are stored and read back identical; one character more is refused (400), a body over the request cap too (413)", async () => {
    const body = `${"0123456789abcdef".repeat(BODY_MAX / 16 - 1)}${"<b>x</b>".padEnd(16, "!")}`;
    expect(body.length).toBe(BODY_MAX);
    const created = await call("tasks.create", { title: "a megabyte", body });
    expect(created.status, created.text.slice(0, 300)).toBe(200);
    const id = dataOf<{ task: { id: string } }>(created).task.id;
    const back = dataOf<{ task: { body: string } }>(await query("tasks.get", { id })).task.body;
    expect(back.length).toBe(BODY_MAX);
    expect(sha(back)).toBe(sha(body));
    expect(sha((db.prepare("SELECT body FROM tasks WHERE id = ?").pluck().get(id) as string) ?? "")).toBe(sha(body));

    const count = () => db.prepare("SELECT count(*) FROM tasks").pluck().get();
    const before = count();
    const tooLong = await call("tasks.create", { title: "too long", body: `${body}x` });
    expect(tooLong.status).toBe(400);
    expect(errorOf(tooLong)?.data.code).toBe("BAD_REQUEST");
    // 1 Mi characters of a two-byte letter are 2 MiB of UTF-8: over the HTTP body cap.
    const tooBig = await call("tasks.create", { title: "too big", body: "é".repeat(BODY_MAX) });
    expect(tooBig.status).toBe(413);
    expect(errorOf(tooBig)?.data.code).toBe("PAYLOAD_TOO_LARGE");
    const longComment = await call("comments.add", { task_id: id, body: "c".repeat(64 * 1024 + 1) });
    expect(longComment.status).toBe(400);
    expect(count()).toBe(before);
  });

  it("path-traversal workspaces are refused; an absolute directory is kept as given", async () => {
    const refusedSpecs: Record<string, unknown>[] = [
      { workspace: "dir:../../etc" },
      { workspace: "dir:relative/path" },
      { workspace: "dir:./here" },
      { workspace: "worktree:../outside" },
      { workspace: "dir:~/.ssh" },
      { workspace_kind: "dir", workspace_path: "../../etc" },
      { workspace_kind: "worktree", workspace_path: "repo/../../x" },
      { workspace_kind: "dir", workspace_path: "" },
    ];
    const before = db.prepare("SELECT count(*) FROM tasks").pluck().get();
    for (const spec of refusedSpecs) {
      const r = await call("tasks.create", { title: "escape", ...spec });
      expect(r.status, `${JSON.stringify(spec)}: ${r.text.slice(0, 300)}`).toBe(400);
      expect(errorOf(r)?.data.code).toBe("BAD_REQUEST");
    }
    expect(db.prepare("SELECT count(*) FROM tasks").pluck().get()).toBe(before);
    const absolute = await call("tasks.create", { title: "absolute", workspace: "dir:/tmp/../etc" });
    if (storedOrRefused(absolute, "dir:/tmp/../etc")) {
      const task = dataOf<{ task: { workspace_kind: string; workspace_path: string } }>(absolute).task;
      expect(task.workspace_kind).toBe("dir");
      expect(path.resolve(task.workspace_path)).toBe("/etc");
    }
  });

  it("`../` and other hostile board slugs are refused everywhere, and nothing is created outside the home", async () => {
    const slugs = [
      "..",
      "../escape",
      "../../escape",
      "a/../b",
      "a/b",
      "/abs",
      "./x",
      "%2e%2e",
      "..\\x",
      ".hidden",
      "-x",
      "x".repeat(65),
      "UPPER/../x",
      "\u0000",
    ];
    for (const slug of slugs) {
      for (const [p, input, type] of [
        ["boards.create", { slug }, "mutation"],
        ["boards.switch", { slug }, "mutation"],
        ["boards.remove", { slug, delete: true }, "mutation"],
        ["tasks.create", { board: slug, title: "x" }, "mutation"],
        ["tasks.list", { board: slug }, "query"],
        ["board.get", { board: slug }, "query"],
      ] as const) {
        const r = await callProcedure(serve.url, p, type, input);
        expect(r.status, `${p} ${JSON.stringify(slug)}: ${r.text.slice(0, 200)}`).toBe(400);
        expect(errorOf(r)?.data.code).toBe("BAD_REQUEST");
      }
    }
    // The home's parent holds only the home; the boards directory holds no board named after a payload.
    expect(fs.readdirSync(home.outer)).toEqual(["home"]);
    const boardsDir = path.join(home.home, "kanban", "boards");
    const boards = fs.existsSync(boardsDir) ? fs.readdirSync(boardsDir) : [];
    expect(boards.filter((b) => !/^[a-z0-9][a-z0-9_-]*$/.test(b))).toEqual([]);
    expect(fs.existsSync("/tmp/escape")).toBe(false);
  });
});

/** The web app's own e2e server starter (apps/web/e2e/global-setup.ts), loaded by path like the CLI. */
interface WebServerModule {
  startServer(home: string, port?: number): Promise<{ child: ChildProcess; url: string; port: number }>;
  stopServer(child: ChildProcess, opts?: { crash?: boolean }): Promise<void>;
}
const WEB_DIR = new URL("../../../apps/web/", import.meta.url);
const CHROMIUM = process.env.CHROMIUM?.trim() || "/usr/bin/chromium";
const COMMENT_MARKER = "comment-marker-7f3a";

/** The text a person sees in an element (laid out: hidden elements contribute nothing). */
function shown(locator: Locator): Promise<string> {
  // biome-ignore lint/performance/useDomNodeTextContent: rendered text is the point; textContent would count hidden nodes.
  return locator.innerText();
}

describe("the web board renders hostile data inert", () => {
  let home: TempHome;
  let web: { child: ChildProcess; url: string } | undefined;
  let stopWeb: WebServerModule["stopServer"] | undefined;
  let context: BrowserContext | undefined;
  let profileDir: string | undefined;

  beforeAll(async () => {
    // Build once if there is no production build at all; an existing build is used as it is (the
    // web app's own e2e suite rebuilds a stale one).
    if (!fs.existsSync(new URL(".next/BUILD_ID", WEB_DIR))) {
      const nextBin = createRequire(new URL("package.json", WEB_DIR)).resolve("next/dist/bin/next");
      const r = spawnSync(process.execPath, [nextBin, "build"], {
        cwd: fileURLToPath(WEB_DIR),
        env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
        encoding: "utf8",
      });
      if (r.status !== 0) throw new Error(`next build failed:\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
    }
    home = makeHome("hostile-web");
    const mod = (await import(new URL("e2e/global-setup.ts", WEB_DIR).href)) as WebServerModule;
    stopWeb = mod.stopServer;
    web = await mod.startServer(home.home);
    if (web.child.pid !== undefined) procs.adoptGroup(web.child.pid);
  }, 240_000);

  afterEach(async () => {
    await context?.close();
    context = undefined;
    if (profileDir) fs.rmSync(profileDir, { recursive: true, force: true });
    profileDir = undefined;
  });

  afterAll(async () => {
    if (web && stopWeb) await stopWeb(web.child);
    await procs.killAll();
    home?.cleanup();
  });

  it("cards and the drawer show markup as text (plain fields literally, markdown sanitised), unicode intact; no script runs, no dialog opens", async () => {
    const base = web?.url ?? "";
    const call = async <T>(p: string, input: unknown) =>
      dataOf<T>(await callProcedure(`${base}/api`, p, "mutation", input));
    const payloads = Object.values(SCRIPT_PAYLOADS);
    const title = `${SCRIPT_PAYLOADS.img} ${UNICODE_TEXTS.rtl}`;
    const body = [...payloads, UNICODE_TEXTS.emoji, UNICODE_TEXTS.combining, CONTROL_TEXTS.ansi].join("\n\n");
    const hostile = (
      await call<{ task: { id: string } }>("tasks.create", { title, body, assignee: `<b>${UNICODE_TEXTS.emoji}</b>` })
    ).task.id;
    await call("comments.add", {
      task_id: hostile,
      body: `${COMMENT_MARKER} ${SCRIPT_PAYLOADS.script} ${SCRIPT_PAYLOADS.attribute} ${SCRIPT_PAYLOADS.img}`,
      author: `<img src=x onerror=window.__pwned='author'>`,
    });
    // One card per payload, so every payload is drawn as a card title too; one of them done with a hostile result.
    const others: string[] = [];
    for (const p of payloads)
      others.push((await call<{ task: { id: string } }>("tasks.create", { title: p, body: p })).task.id);
    // A megabyte body on the board: the card is drawn (bodies are cut for the board), the page stays usable.
    const huge = (
      await call<{ task: { id: string } }>("tasks.create", {
        title: "a megabyte of body",
        body: `${SCRIPT_PAYLOADS.img}\n\n${"lorem ipsum ".repeat(87_000)}`,
      })
    ).task.id;
    others.push(huge);
    const finished = others[0] ?? "";
    const run = await call<{ run_id: number }>("tasks.claim", { id: finished });
    await call("tasks.complete", {
      id: finished,
      expected_run_id: run.run_id,
      result: SCRIPT_PAYLOADS.svg,
      summary: SCRIPT_PAYLOADS.iframe,
    });

    profileDir = fs.mkdtempSync(path.join(home.outer, "chromium-"));
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
      viewport: { width: 1600, height: 900 },
    });
    // Control: the payloads are live. Put into a page as HTML, they do run.
    const control = await context.newPage();
    control.on("dialog", (d) => void d.dismiss());
    await control.setContent(`<body>${SCRIPT_PAYLOADS.img}${SCRIPT_PAYLOADS.svg}</body>`);
    await control.waitForFunction(() => (window as unknown as { __pwned?: unknown }).__pwned !== undefined, undefined, {
      timeout: 5000,
    });
    await control.close();

    const dialogs: string[] = [];
    const pageErrors: string[] = [];
    const page: Page = context.pages()[0] ?? (await context.newPage());
    page.on("dialog", (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    page.on("pageerror", (e) => pageErrors.push(e.message));
    const pwned = () => page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned);
    // Every image has loaded or failed (so any onerror handler would have fired) and the page is idle.
    const settled = () =>
      page.waitForFunction(() => Array.from(document.images).every((i) => i.complete), undefined, { timeout: 10_000 });

    await page.goto(`${base}/?board=default`);
    const card = page.getByTestId(`card-${hostile}`);
    await card.waitFor({ timeout: 20_000 });
    expect(await shown(card.getByTestId("card-title"))).toBe(title.replace(/\s+/g, " ").trim());
    for (const id of others) await page.getByTestId(`card-${id}`).waitFor();
    await settled();

    await card.click();
    const drawer = page.getByTestId("drawer");
    await drawer.waitFor();
    const drawerText = await waitFor(
      async () => {
        const text = await shown(drawer);
        return text.includes(COMMENT_MARKER) ? text : null;
      },
      "the hostile comment in the drawer",
      10_000,
    );
    // Plain-text fields (title, assignee, comment author) show the markup literally.
    expect(drawerText).toContain(title);
    expect(drawerText).toContain(`<b>${UNICODE_TEXTS.emoji}</b>`);
    expect(drawerText).toContain(`<img src=x onerror=window.__pwned='author'>`);
    // Markdown fields (body, comments) are sanitised: their text shows, raw HTML becomes no element.
    for (const text of [UNICODE_TEXTS.emoji, UNICODE_TEXTS.combining, "click me", SCRIPT_PAYLOADS.svg])
      expect(drawerText).toContain(text);
    await settled();

    // The finished card's drawer shows its hostile result and summary.
    await page.goto(`${base}/?board=default&task=${finished}`);
    await page.getByTestId("drawer").waitFor();
    await waitFor(
      async () => (await shown(page.getByTestId("drawer"))).includes(SCRIPT_PAYLOADS.svg),
      "the hostile result in the drawer",
      10_000,
    );
    await settled();

    // Nothing ran: no flag, no dialog, no live element carrying a payload's handler or javascript: URL.
    expect(await pwned()).toBeUndefined();
    expect(dialogs).toEqual([]);
    const live = await page.evaluate(() => ({
      handlers: document.querySelectorAll("[onerror], [onload], [onclick]").length,
      scripts: Array.from(document.scripts).filter((s) => s.textContent?.includes("__pwned")).length,
      frames: document.querySelectorAll("iframe").length,
      jsLinks: Array.from(document.querySelectorAll("a[href]")).filter((a) =>
        a.getAttribute("href")?.trim().toLowerCase().startsWith("javascript:"),
      ).length,
    }));
    expect(live).toEqual({ handlers: 0, scripts: 0, frames: 0, jsLinks: 0 });
    expect(pageErrors).toEqual([]);
  }, 120_000);
});
