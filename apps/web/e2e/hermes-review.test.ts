import fs from "node:fs";
import path from "node:path";
import { openBoard as openKernelBoard } from "@kanban/kernel";
import { boardInternals } from "@kanban/kernel/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "./env.ts";
import {
  api,
  type Browser,
  captureOnFailure,
  card,
  column,
  kanbanHome,
  launch,
  noPageErrors,
  openBoard,
  waitUntil,
} from "./helpers.ts";

// Issue 20: a board written by Hermes (the v3 fixture, upgraded in place when opened) whose cards were
// put in review the way Hermes B does it — status `review`, the reviewer assigned, a `review_requested`
// event naming the implementer — shows them in the Review column, and a person moves them on.

const FIXTURE = path.resolve(REPO_ROOT, "..", "shared", "fixtures", "hermes-v3-2026-07-29.db");

let b: Browser;
beforeAll(async () => {
  b = await launch();
});
afterAll(async () => {
  await b?.close();
});

/** A copy of the Hermes v3 board as a board of the running server, with two of its ready cards put in review by Hermes B. */
function hermesBoardWithReviews(): { slug: string; ids: string[] } {
  const slug = `hermes-v3-${Math.random().toString(36).slice(2, 7)}`;
  const dir = path.join(kanbanHome(), "kanban", "boards", slug);
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(FIXTURE, path.join(dir, "kanban.db"));
  const k = openKernelBoard({ location: { home: kanbanHome() }, board: slug });
  try {
    const sqlite = boardInternals(k).sqlite;
    const rows = sqlite.prepare("SELECT id FROM tasks WHERE status = 'ready' ORDER BY id LIMIT 2").all() as {
      id: string;
    }[];
    for (const { id } of rows) {
      // What Hermes B's request_review leaves behind.
      sqlite.prepare("UPDATE tasks SET status = 'review', assignee = 'critic', claim_lock = NULL WHERE id = ?").run(id);
      sqlite
        .prepare("INSERT INTO task_events (task_id, kind, payload, created_at) VALUES (?, 'review_requested', ?, ?)")
        .run(
          id,
          JSON.stringify({ summary: "handed in by B", implementer: "coder", reviewer: "critic" }),
          1_780_000_000,
        );
    }
    return { slug, ids: rows.map((r) => r.id) };
  } finally {
    k.close();
  }
}

describe("a Hermes v3 board with review rows", () => {
  it("shows them in the Review column; one is approved, the other sent back to its implementer", async () => {
    captureOnFailure(b, "hermes-v3-review-rows");
    noPageErrors(b);
    const { slug, ids } = hermesBoardWithReviews();
    expect(ids).toHaveLength(2);
    const [approve, sendBack] = ids as [string, string];
    const client = api();

    const page = await openBoard(b, slug);
    await column(page, "review").getByTestId(`card-${approve}`).waitFor();
    await column(page, "review").getByTestId(`card-${sendBack}`).waitFor();
    // The rest of the Hermes board is there as Hermes left it.
    const done = (await client.tasks.list.query({ board: slug, status: "done" })).tasks;
    expect(done.length).toBeGreaterThan(0);
    await column(page, "done").getByTestId(`card-${done[0]?.id}`).waitFor();

    await card(page, approve).click();
    await page.getByTestId("drawer").getByTestId("action-approve").click();
    await column(page, "done").getByTestId(`card-${approve}`).waitFor();
    expect((await client.tasks.get.query({ board: slug, id: approve })).task.status).toBe("done");
    await page.getByTestId("drawer-close").click();

    await card(page, sendBack).click();
    await page.getByTestId("drawer").getByTestId("action-request-changes").click();
    await page.getByTestId("confirm-reason").fill("Cover the empty case too");
    await page.getByTestId("confirm-ok").click();
    await column(page, "ready").getByTestId(`card-${sendBack}`).waitFor();
    const back = await waitUntil(
      async () => {
        const t = (await client.tasks.get.query({ board: slug, id: sendBack })).task;
        return t.status === "ready" ? t : null;
      },
      5000,
      "the card to go back",
    );
    // The implementer comes from B's review_requested event.
    expect(back?.assignee).toBe("coder");
  });
});
