import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, stopServer } from "./global-setup.ts";
import {
  api,
  captureOnFailure,
  type Browser,
  card,
  cli,
  column,
  freshBoard,
  kanbanHome,
  launch,
  noPageErrors,
  openBoard,
  shot,
  waitUntil,
} from "./helpers.ts";

let b: Browser;
beforeAll(async () => {
  b = await launch();
});
afterAll(async () => {
  await b?.close();
});

describe("live updates", () => {
  // How fast (the 1 s promise) is the bench's "live events" row; this test shows that it arrives, live.
  it("shows a write made by the CLI in another process, without a reload", async () => {
    captureOnFailure(b, "shows-a-write-made-by-the-cli-in-another");
    const board = await freshBoard("live");
    const page = await openBoard(b, board);
    const navigations: string[] = [];
    page.on("framenavigated", (f) => navigations.push(f.url()));

    const created = await cli(["--board", board, "create", "Made by the CLI", "--assignee", "coder", "--json"]);
    expect(created.code, created.stderr).toBe(0);
    const id = (JSON.parse(created.stdout) as { id: string }).id;
    await card(page, id).waitFor({ timeout: 10_000 });
    const appearedIn = Date.now() - created.exitedAt;

    const blocked = await cli(["--board", board, "block", id, "waiting for credentials"]);
    expect(blocked.code, blocked.stderr).toBe(0);
    await column(page, "blocked").getByTestId(`card-${id}`).waitFor({ timeout: 10_000 });
    const movedIn = Date.now() - blocked.exitedAt;
    expect(navigations).toEqual([]);
    process.stdout.write(`live: CLI create visible after ${appearedIn} ms, CLI block after ${movedIn} ms\n`);
    await shot(page, "live-cli-write");
    noPageErrors(b);
  });

  it("says when it is offline, reconnects with backoff and catches up on what it missed", async () => {
    captureOnFailure(b, "says-when-it-is-offline-reconnects-with");
    // A server of its own (same boards), so stopping it leaves the shared one alone.
    const own = await startServer(kanbanHome());
    let restarted: Awaited<ReturnType<typeof startServer>> | null = null;
    const board = await freshBoard("offline");
    const page = b.context.pages()[0] ?? (await b.context.newPage());
    try {
      await page.goto(`${own.url}/?board=${board}`);
      await page.locator(`[data-testid="board"][data-board="${board}"]`).waitFor();
      const status = page.getByTestId("live-status");
      await waitUntil(async () => (await status.getAttribute("data-state")) === "live", 10_000, "live");

      // After the gap the board is read again, once: what was missed may be anything.
      let reads = 0;
      page.on("request", (r) => {
        const url = new URL(r.url());
        if (url.pathname.startsWith("/api/trpc/") && url.pathname.slice(10).split(",").includes("board.get")) reads++;
      });
      await stopServer(own.child, { crash: true });
      await waitUntil(
        async () => (await status.getAttribute("data-state")) === "offline",
        15_000,
        "the indicator to say offline",
      );
      expect(await status.textContent()).toContain("Offline");
      await shot(page, "live-offline");
      // Written while the page could not hear about it.
      const missed = (await api().tasks.create.mutate({ board, title: "Created while offline" })).task;
      restarted = await startServer(kanbanHome(), own.port);
      await waitUntil(
        async () => (await status.getAttribute("data-state")) === "live",
        40_000,
        "the stream to reconnect",
      );
      await card(page, missed.id).waitFor({ timeout: 10_000 });
      expect(reads).toBe(1);
    } finally {
      await stopServer(own.child);
      if (restarted) await stopServer(restarted.child);
    }
    noPageErrors(b);
  });

  it("asks for the token when the server requires one, then works and stays live with it", async () => {
    captureOnFailure(b, "token");
    const token = "e2e-secret-token-0123456789";
    const guarded = await startServer(kanbanHome(), undefined, { KANBAN_TOKEN: token });
    const page = await b.context.newPage();
    try {
      const board = await freshBoard("token");
      await page.goto(`${guarded.url}/?board=${board}`);
      await page.getByTestId("token-input").waitFor();
      await shot(page, "token-gate");
      await page.getByTestId("token-input").fill(token);
      await page.getByTestId("token-input").press("Enter");
      await page.locator(`[data-testid="board"][data-board="${board}"]`).waitFor();
      await waitUntil(
        async () => (await page.getByTestId("live-status").getAttribute("data-state")) === "live",
        10_000,
        "the authenticated stream",
      );
      // The stream carries the token too: a write elsewhere still arrives.
      const t = (await api().tasks.create.mutate({ board, title: "Seen through the token" })).task;
      await card(page, t.id).waitFor({ timeout: 10_000 });
    } finally {
      await page.close();
      await stopServer(guarded.child, { crash: true });
    }
    noPageErrors(b);
  });
});
