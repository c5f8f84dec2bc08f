import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { openBoard as openKernelBoard } from "@kanban/kernel";
import { boardInternals } from "@kanban/kernel/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundledScript } from "@kanban/db/testing-scripts";
import { WEB_DIR } from "./env.ts";
import { startServer, stopServer } from "./global-setup.ts";
import {
  api,
  type Browser,
  baseUrl,
  captureOnFailure,
  card,
  column,
  freshBoard,
  kanbanHome,
  launch,
  noPageErrors,
  openBoard,
  runNode,
  shot,
  waitUntil,
} from "./helpers.ts";

/**
 * What acceptance testing found on the board (issue 12): config errors shown on the board, never an
 * endless "Loading board…", offline seen fast, honest select-all, reopening Done asks, Recovery's
 * reassign never picks the failing profile, the create dialog warns about unknown assignees, and
 * the board fits 1280 px.
 */
let b: Browser;
beforeAll(async () => {
  b = await launch();
});
afterAll(async () => {
  await b?.close();
});

function tempHome(config: string | null): string {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "kanban-e2e-own-"));
  if (config !== null) fs.writeFileSync(path.join(home, "config.json"), config);
  return home;
}

describe("the board and its server", () => {
  it("shows config.json's error as a banner (and the board keeps working), then clears it once fixed", async () => {
    captureOnFailure(b, "config-error-banner");
    const home = tempHome(JSON.stringify({ kanban: { failure_limt: 3 } }));
    const own = await startServer(home);
    const page = await b.context.newPage();
    try {
      await page.goto(`${own.url}/`);
      const banner = page.getByTestId("config-error");
      await banner.waitFor();
      const text = (await banner.textContent()) ?? "";
      expect(text).toContain("failure_limt");
      expect(text).toContain("failure_limit"); // the suggestion
      expect(text).not.toMatch(/\n\s+at /);
      // Below it, the board, or (while the API refuses to read boards on an invalid file) a panel
      // that says so: never an endless "Loading board…".
      await page
        .locator('[data-testid="board"], [data-testid="server-problem"][data-kind="config"]')
        .first()
        .waitFor({ timeout: 20_000 });
      expect(await page.getByText("Loading board…").count()).toBe(0);
      await shot(page, "config-error-banner");
      // Fixed in place: the banner goes away and the board shows, without a reload.
      fs.writeFileSync(path.join(home, "config.json"), JSON.stringify({ kanban: { failure_limit: 3 } }));
      await banner.waitFor({ state: "detached", timeout: 15_000 });
      await page.locator('[data-testid="board"]').waitFor({ timeout: 15_000 });
    } finally {
      await page.close();
      await stopServer(own.child);
      fs.rmSync(home, { recursive: true, force: true });
    }
  });

  it("never spins on 'Loading board…': an unreachable API is said, with what to do, and the board loads by itself once it answers", async () => {
    captureOnFailure(b, "unreachable");
    const board = await freshBoard("unreachable");
    const page = await b.context.newPage();
    try {
      await page.route("**/api/trpc/**", (route) => route.abort("connectionrefused"));
      await page.goto(`${baseUrl()}/?board=${board}`);
      const problem = page.getByTestId("server-problem");
      await problem.waitFor({ timeout: 15_000 });
      expect(await problem.getAttribute("data-kind")).toBe("unreachable");
      expect(await problem.textContent()).toContain("npm start");
      await shot(page, "server-unreachable");
      await page.unroute("**/api/trpc/**");
      await page.locator(`[data-testid="board"][data-board="${board}"]`).waitFor({ timeout: 15_000 });
      expect(await problem.count()).toBe(0);
    } finally {
      await page.close();
    }
  });

  it("says Offline soon after its server stops gracefully (a stream left open), and the dispatcher dot stops being green", async () => {
    captureOnFailure(b, "offline-graceful");
    const own = await startServer(kanbanHome());
    const board = await freshBoard("offline-fast");
    // A dispatcher that looks alive: this test process holds the lock and has just ticked.
    const lock = path.join(kanbanHome(), "kanban", ".dispatcher.lock");
    const statusFile = path.join(kanbanHome(), "kanban", "dispatcher.json");
    fs.mkdirSync(path.dirname(lock), { recursive: true });
    fs.writeFileSync(lock, String(process.pid));
    const now = Math.floor(Date.now() / 1000);
    fs.writeFileSync(
      statusFile,
      JSON.stringify({
        pid: process.pid,
        started_at: now - 10,
        last_tick_at: now,
        last_tick_ms: 3,
        interval_seconds: 60,
        ticks: 1,
        boards: [],
        running_workers: [],
        warnings: [],
      }),
    );
    const page = await b.context.newPage();
    try {
      await page.goto(`${own.url}/?board=${board}`);
      await page.locator(`[data-testid="board"][data-board="${board}"]`).waitFor();
      const live = page.getByTestId("live-status");
      await waitUntil(async () => (await live.getAttribute("data-state")) === "live", 10_000, "live");
      const dot = page.getByTestId("dispatcher-health");
      await waitUntil(
        async () => (await dot.getAttribute("data-state")) === "ok",
        10_000,
        "the dispatcher dot to be green",
      );

      const t0 = Date.now();
      await stopServer(own.child); // SIGTERM: Next shuts down while the page's stream is open
      await waitUntil(
        async () => (await live.getAttribute("data-state")) === "offline",
        12_000,
        "the indicator to say offline",
      );
      process.stdout.write(`offline: shown ${Date.now() - t0} ms after SIGTERM\n`);
      await page.getByTestId("server-offline").waitFor();
      await waitUntil(
        async () => (await dot.getAttribute("data-state")) === "unknown",
        12_000,
        "the dispatcher dot to leave green",
      );
      await shot(page, "server-offline");
    } finally {
      await page.close();
      await stopServer(own.child);
      fs.rmSync(lock, { force: true });
      fs.rmSync(statusFile, { force: true });
    }
  });
});

describe("select all, show more and reopening Done", () => {
  it("select-all on a paged column says '100 of 520', selects all 520 on request, keeps Show more reachable, and asks before reopening them", async () => {
    captureOnFailure(b, "select-all");
    const board = await freshBoard("select-all");
    const seeded = await runNode([
      await bundledScript({ file: path.join(WEB_DIR, "e2e", "fixtures", "seed.ts") }),
      kanbanHome(),
      board,
      "0",
      "520",
    ]);
    expect(seeded.code, seeded.stderr).toBe(0);
    const page = await openBoard(b, board);
    const all = page.getByTestId("select-all-done");
    await all.click();
    expect(await all.isChecked()).toBe(false);
    expect(await all.evaluate((el) => (el as HTMLInputElement).indeterminate)).toBe(true);
    expect(await page.getByTestId("select-all-count-done").textContent()).toBe("100 of 520 selected");
    expect(await page.getByTestId("bulk-count").textContent()).toBe("100 selected");
    // The bulk bar floats over the bottom of the board: Show more is still clickable above it.
    await page.getByTestId("load-more-done").click();
    await waitUntil(
      async () => /\((\d+) more\)/.exec((await page.getByTestId("load-more-done").textContent()) ?? "")?.[1] !== "420",
      10_000,
      "the next page",
    );
    await page.getByTestId("select-every-done").click();
    await waitUntil(
      async () => (await page.getByTestId("bulk-count").textContent()) === "520 selected",
      15_000,
      "all 520 selected",
    );
    expect(await all.isChecked()).toBe(true);
    await shot(page, "select-all-paged");

    await page.getByTestId("bulk-status").selectOption("ready");
    const confirm = page.getByTestId("confirm-dialog");
    await confirm.getByText("Reopen 520 done tasks?").waitFor();
    expect(await confirm.textContent()).toContain(
      "All 520 tasks are done. In Ready the dispatcher runs their agents again.",
    );
    await shot(page, "reopen-confirm");
    await page.getByTestId("confirm-cancel").click();
    expect((await api().board.get.query({ board })).columns.find((c) => c.name === "ready")?.total).toBe(0);

    await page.getByTestId("bulk-status").selectOption("ready");
    await page.getByTestId("confirm-ok").click();
    // 520 ids go out in calls of at most 500 (the API's limit).
    await waitUntil(
      async () => (await api().board.get.query({ board })).columns.find((c) => c.name === "ready")?.total === 520,
      30_000,
      "all 520 in Ready",
    );
    noPageErrors(b);
  });
});

describe("recovery reassign", () => {
  it("'★ Reassign to another profile' asks which one, never offers the failing profile, and reassigns", async () => {
    captureOnFailure(b, "reassign-other");
    const board = await freshBoard("reassign");
    const t = (await api().tasks.create.mutate({ board, title: "Keeps failing", assignee: "coder" })).task;
    const k = openKernelBoard({ location: { home: kanbanHome() }, board });
    try {
      boardInternals(k)
        .sqlite.prepare(
          "UPDATE tasks SET consecutive_failures = 2, last_failure_error = 'worker exited 1' WHERE id = ?",
        )
        .run(t.id);
    } finally {
      k.close();
    }
    const page = await openBoard(b, board, `&task=${t.id}`);
    const recovery = page.getByTestId("recovery");
    await recovery.getByTestId("diagnostic-repeated_failures").waitFor();
    // The manual list starts on "Choose a profile…" and does not offer coder at all.
    expect(await page.getByTestId("recovery-reassign").isDisabled()).toBe(true);
    const offered = await page.getByTestId("recovery-profile").locator("option").allTextContents();
    expect(offered).not.toContain("coder");
    expect(offered).toContain("writer");

    await recovery.getByRole("button", { name: "★ Reassign to another profile" }).click();
    const choose = page.getByTestId("choose-dialog");
    await choose.waitFor();
    const options = await page.getByTestId("choose-select").locator("option:not([disabled])").allTextContents();
    expect(options).not.toContain("coder");
    expect(options).toContain("writer");
    expect(await page.getByTestId("choose-ok").isDisabled()).toBe(true);
    await shot(page, "reassign-choose");
    await page.getByTestId("choose-select").selectOption("writer");
    await page.getByTestId("choose-ok").click();
    await waitUntil(
      async () => (await api().tasks.get.query({ board, id: t.id })).task.assignee === "writer",
      5000,
      "the reassignment",
    );
    await card(page, t.id).getByTestId("card-assignee").getByText("@writer").waitFor();
    noPageErrors(b);
  });
});

describe("create dialog", () => {
  it("warns before a card goes to someone who is not a profile, and creates it only on a second click", async () => {
    captureOnFailure(b, "unknown-assignee");
    const board = await freshBoard("unknown-assignee");
    const page = await openBoard(b, board);
    await page.getByTestId("new-task").click();
    await page.getByTestId("create-title").fill("Given to a typo");
    await page.getByTestId("create-assignee").fill("codr");
    const warning = page.getByTestId("create-assignee-warning");
    await warning.waitFor();
    expect(await warning.textContent()).toContain("'codr' is not a profile in config.json (profiles: coder, writer)");
    await page.getByTestId("create-submit").click();
    expect(await page.getByTestId("create-submit").textContent()).toBe("Create anyway");
    expect((await api().tasks.list.query({ board })).tasks).toHaveLength(0);
    await shot(page, "create-unknown-assignee");
    await page.getByTestId("create-assignee").fill("coder");
    await warning.waitFor({ state: "detached" });
    await page.getByTestId("create-assignee").fill("codr");
    await page.getByTestId("create-submit").click();
    await page.getByTestId("create-submit").click();
    const created = await waitUntil(async () => (await api().tasks.list.query({ board })).tasks[0], 5000, "the task");
    if (!created) throw new Error("unreachable");
    // The card itself carries the warning (the board's diagnostics flag an assignee no worker exists for).
    // The server's own notice follows (no dispatcher runs in these tests); close it.
    await page.getByTestId("create-warning").waitFor();
    await page.keyboard.press("Escape");
    await page.getByTestId("create-dialog").waitFor({ state: "detached" });
    const badge = card(page, created.id).getByTestId("warning-badge");
    await badge.waitFor({ timeout: 10_000 });
    await shot(page, "unknown-assignee-card");
    noPageErrors(b);
  });
});

describe("layout at 1280 px", () => {
  it("shows every default column side by side, and names the columns off screen when there are more", async () => {
    captureOnFailure(b, "layout-1280");
    const board = await freshBoard("narrow");
    const done = (await api().tasks.create.mutate({ board, title: "Shipped the exporter" })).task;
    await api().tasks.complete.mutate({ board, id: done.id, summary: "shipped" });
    await api().tasks.create.mutate({ board, title: "Write the docs", assignee: "writer" });
    const page = await openBoard(b, board);
    await page.setViewportSize({ width: 1280, height: 800 });
    await card(page, done.id).waitFor();
    for (const name of ["triage", "todo", "ready", "running", "blocked", "done"]) {
      const box = await column(page, name).boundingBox();
      expect(box, name).not.toBeNull();
      expect((box?.x ?? 0) + (box?.width ?? 0), `${name} ends inside the window`).toBeLessThanOrEqual(1280);
    }
    expect(await page.getByTestId("scroll-right").count()).toBe(0);
    await shot(page, "board-1280");

    // Scheduled and Review add columns: Done goes off screen, and the board says so.
    const parked = (await api().tasks.create.mutate({ board, title: "Wait for the vendor" })).task;
    await api().tasks.patch.mutate({ board, id: parked.id, status: "scheduled" });
    await column(page, "scheduled").waitFor();
    await page.setViewportSize({ width: 1100, height: 800 });
    const hint = page.getByTestId("scroll-right");
    await hint.waitFor();
    expect(await hint.textContent()).toContain("Done 1");
    await shot(page, "board-narrow-hint");
    await hint.click();
    await waitUntil(
      async () => {
        const box = await column(page, "done").boundingBox();
        return box !== null && box.x + box.width <= 1100;
      },
      5000,
      "Done scrolled into view",
    );
    noPageErrors(b);
  });
});
