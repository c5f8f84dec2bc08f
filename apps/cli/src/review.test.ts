import { type RunningServer, silentLogger, startServer } from "@kanban/api";
import { openBoard } from "@kanban/kernel";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { apiClient, cli, createdId, type TempHome, tempHome } from "./testing/harness.ts";

/**
 * `kanban review request|approve|changes|reopen` on a real temporary KANBAN_HOME, locally and over
 * HTTP against a real API server: one line per verb, one `kanban: …` line and exit 1 on a refusal.
 */
let h: TempHome;
let server: RunningServer | null = null;

async function reviewerClaim(id: string): Promise<number> {
  // The dispatcher's review lane, on the same home.
  const board = openBoard({ location: { home: h.home }, warn: () => {} });
  try {
    return (await board.claimReviewTask(id))?.current_run_id as number;
  } finally {
    board.close();
  }
}

function oneErrorLine(err: string): string {
  const lines = err.split("\n").filter((l) => l !== "");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^kanban: /);
  expect(err).not.toMatch(/\n\s+at /);
  return lines[0] as string;
}

describe.each(["local", "remote"] as const)("kanban review (%s)", (mode) => {
  beforeEach(async () => {
    h = tempHome();
    if (mode === "remote") {
      server = await startServer({ host: "127.0.0.1", port: 0, location: { home: h.home }, logger: silentLogger });
      h.env.KANBAN_URL = server.url;
    }
  });
  afterEach(async () => {
    await server?.close();
    server = null;
    h.cleanup();
  });

  it("a worker requests review, the reviewer sends it back, the next round is approved", async () => {
    const id = createdId((await cli(["create", "build it", "--assignee", "coder"], h.env)).out);
    const api = await apiClient(h.env);
    const claimed = await api.tasks.claim.mutate({ id });
    const worker = { ...h.env, KANBAN_TASK: id, KANBAN_RUN_ID: String(claimed.run_id), KANBAN_PROFILE: "coder" };

    const asked = await cli(["review", "request", id, "--reviewer", "critic", "--summary", "parser done"], worker);
    expect(asked.code, asked.err).toBe(0);
    expect(asked.out).toBe(`${id} → review (reviewer critic)`);

    const reviewRun = await reviewerClaim(id);
    const reviewer = { ...h.env, KANBAN_TASK: id, KANBAN_RUN_ID: String(reviewRun), KANBAN_PROFILE: "critic" };
    const back = await cli(["review", "changes", id, "add", "tests"], reviewer);
    expect(back.code, back.err).toBe(0);
    expect(back.out).toBe(`${id} → ready (back to coder): add tests`);
    const comments = (await api.comments.list.query({ task_id: id })).comments.map((c) => c.body);
    expect(comments).toContain("CHANGES REQUESTED: add tests");

    const again = await api.tasks.claim.mutate({ id });
    const worker2 = { ...worker, KANBAN_RUN_ID: String(again.run_id) };
    expect((await cli(["review", "request", id], worker2)).out).toBe(`${id} → review (reviewer critic)`);
    const ok = await cli(["review", "approve", id], h.env);
    expect(ok.code, ok.err).toBe(0);
    expect(ok.out).toBe(`Approved ${id} → done`);
    expect((await api.tasks.get.query({ id })).task.status).toBe("done");
  });

  it("reopen takes a card out of review; refusals are one line and exit 1", async () => {
    const id = createdId((await cli(["create", "t", "--assignee", "coder"], h.env)).out);
    const noReviewer = await cli(["review", "request", id], h.env);
    expect(noReviewer.code).toBe(1);
    expect(oneErrorLine(noReviewer.err)).toContain("name a reviewer");

    const notInReview = await cli(["review", "reopen", id], h.env);
    expect(notInReview.code).toBe(1);
    expect(oneErrorLine(notInReview.err)).toBe(
      `kanban: cannot reopen review of ${id}: status is 'ready' (not in review)`,
    );
    const approve = await cli(["review", "approve", id], h.env);
    expect(approve.code).toBe(1);
    expect(oneErrorLine(approve.err)).toBe(`kanban: cannot approve ${id}: status is 'ready' (not in review)`);

    expect((await cli(["review", "request", id, "--reviewer", "critic"], h.env)).code).toBe(0);
    const changes = await cli(["review", "changes", id, "nope"], h.env);
    expect(changes.code).toBe(1);
    expect(oneErrorLine(changes.err)).toContain("no reviewer run holds it");
    const reopened = await cli(["review", "reopen", id, "--reason", "rethink"], h.env);
    expect(reopened.code, reopened.err).toBe(0);
    expect(reopened.out).toBe(`${id} → ready (out of review, back to coder)`);

    const unknown = await cli(["review", "reopen", "t_deadbeef00"], h.env);
    expect(unknown.code).toBe(1);
    expect(oneErrorLine(unknown.err)).toBe("kanban: cannot reopen review of t_deadbeef00 (unknown id)");
    // A person cannot "approve" a card a worker is still running.
    const running = createdId((await cli(["create", "busy", "--assignee", "coder"], h.env)).out);
    await (await apiClient(h.env)).tasks.claim.mutate({ id: running });
    const busy = await cli(["review", "approve", running], h.env);
    expect(busy.code).toBe(1);
    expect(oneErrorLine(busy.err)).toBe(`kanban: cannot approve ${running}: status is 'running' (not in review)`);
    const badMeta = await cli(["review", "request", id, "--metadata", "[1]"], h.env);
    expect(badMeta.code).toBe(2);
    expect(oneErrorLine(badMeta.err)).toContain("--metadata must be a JSON object");
  });
});
