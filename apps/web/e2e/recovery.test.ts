import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { bundledScript } from "@kanban/db/testing-scripts";
import { REPO_ROOT, WEB_DIR } from "./env.ts";
import {
  api,
  captureOnFailure,
  baseUrl,
  type Browser,
  card,
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
const workers: ChildProcess[] = [];
beforeAll(async () => {
  b = await launch();
});
afterEach(() => {
  for (const w of workers.splice(0)) if (w.exitCode === null && w.signalCode === null) w.kill("SIGKILL");
});
afterAll(async () => {
  await b?.close();
});

/** Starts the fake worker on a task and resolves once it has claimed it and heartbeated once. */
async function startWorker(
  board: string,
  id: string,
): Promise<{ child: ChildProcess; pid: number; exited: Promise<number | null> }> {
  const child = spawn(
    process.execPath,
    [
      await bundledScript({ file: path.join(WEB_DIR, "e2e", "fixtures", "fake-worker.ts") }),
      `${baseUrl()}/api/trpc`,
      board,
      id,
      kanbanHome(),
    ],
    {
      cwd: REPO_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      // Its own process group, as the dispatcher starts workers: the API terminates a released
      // claim's worker by group (SIGTERM, grace, SIGKILL).
      detached: true,
    },
  );
  workers.push(child);
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  let out = "";
  let err = "";
  child.stderr?.on("data", (d) => {
    err += d;
  });
  const pid = await new Promise<number>((resolve, reject) => {
    child.stdout?.on("data", (d) => {
      out += d;
      const m = /READY (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.on("exit", (code) => reject(new Error(`fake worker exited with ${code}: ${err}`)));
  });
  return { child, pid, exited };
}

describe("recovery", () => {
  it("shows a running task's liveness, then reclaims and reassigns it from the Recovery section", async () => {
    captureOnFailure(b, "shows-a-running-task-s-liveness-then-rec");
    const board = await freshBoard("recovery");
    const t = (await api().tasks.create.mutate({ board, title: "Long job", assignee: "coder" })).task;
    const page = await openBoard(b, board);
    const worker = await startWorker(board, t.id);

    const running = column(page, "running").getByTestId(`card-${t.id}`);
    await running.waitFor();
    const live = running.getByTestId("liveness");
    await waitUntil(
      async () =>
        (await live.getAttribute("data-state")) === "alive" &&
        (await live.getByTestId("worker-pid").textContent()) === String(worker.pid),
      5000,
      "the card to show the worker's pid",
    );
    expect(await live.getByTestId("heartbeat-age").textContent()).toMatch(/just now|\ds ago/);
    expect(await live.getByTestId("lease").textContent()).toMatch(/^(9:[0-5]\d|10:00)$/);
    // The lane header groups In progress by assignee.
    await page.getByTestId("lane-coder").waitFor();
    await shot(page, "liveness");

    await running.click();
    const recovery = page.getByTestId("recovery");
    await recovery.waitFor();
    expect(await recovery.getAttribute("open")).toBeNull(); // no warnings: collapsed
    await recovery.locator("summary").click();
    await page.getByTestId("worker-log").getByText(`worker ${worker.pid} claimed ${t.id}`).waitFor();
    await shot(page, "recovery-section");
    await page.getByTestId("recovery-reclaim").click();
    // The API stops the worker (SIGTERM), the task goes back to ready.
    expect(await worker.exited).toBe(0);
    await column(page, "ready").getByTestId(`card-${t.id}`).waitFor();
    await waitUntil(
      async () => (await page.getByTestId("drawer-status").textContent()) === "Ready",
      5000,
      "the drawer to say Ready",
    );
    const runs = (await api().runs.list.query({ board, task_id: t.id })).runs;
    expect(runs.map((r) => r.outcome)).toEqual(["reclaimed"]);
    const run = page.getByTestId(`run-${runs[0]?.id}`);
    await run.getByText("reclaimed", { exact: true }).waitFor();
    expect(await run.textContent()).toContain("@coder");

    // Again, and this time hand it to another profile, releasing the claim first.
    const second = await startWorker(board, t.id);
    await waitUntil(
      async () => (await page.getByTestId("drawer-status").textContent()) === "In progress",
      5000,
      "the drawer to follow the new claim",
    );
    await page.getByTestId("recovery-profile").selectOption("writer");
    expect(await page.getByTestId("recovery-reclaim-first").isChecked()).toBe(true);
    expect(await page.getByTestId("model-hint").textContent()).toContain('"model": "model-a"');
    await page.getByTestId("recovery-reassign").click();
    expect(await second.exited).toBe(0);
    await waitUntil(
      async () => (await api().tasks.get.query({ board, id: t.id })).task.assignee === "writer",
      5000,
      "the reassignment",
    );
    expect((await api().tasks.get.query({ board, id: t.id })).task.status).toBe("ready");
    await card(page, t.id).getByTestId("card-assignee").getByText("@writer").waitFor();
    noPageErrors(b);
  });

  it("flags a hallucinated completion on the card, in the attention strip and with phantom chips; a clean completion clears it", async () => {
    captureOnFailure(b, "flags-a-hallucinated-completion-on-the-c");
    const board = await freshBoard("phantom");
    const t = (await api().tasks.create.mutate({ board, title: "Split the epic", assignee: "coder" })).task;
    const page = await openBoard(b, board);
    const claimed = await api().tasks.claim.mutate({ board, id: t.id });
    await expect(
      api().tasks.complete.mutate({
        board,
        id: t.id,
        expected_run_id: claimed.run_id,
        summary: "made t_nothere1 and t_nothere2",
        created_cards: ["t_nothere1", "t_nothere2"],
      }),
    ).rejects.toThrow(/t_nothere1/);

    const badge = card(page, t.id).getByTestId("warning-badge");
    await badge.waitFor();
    expect(await badge.getAttribute("data-severity")).toBe("error");
    const row = page.getByTestId(`attention-row-${t.id}`);
    await row.waitFor();
    expect(await row.textContent()).toContain("Split the epic");
    await shot(page, "attention-strip");

    await page.getByTestId(`attention-open-${t.id}`).click();
    const drawer = page.getByTestId("drawer");
    await drawer.waitFor();
    expect(await drawer.getAttribute("data-task-id")).toBe(t.id);
    const recovery = page.getByTestId("recovery");
    await recovery.getByTestId("diagnostic-hallucinated_cards").waitFor();
    expect(await recovery.getAttribute("open")).not.toBeNull(); // warnings: open
    const event = drawer.getByTestId("event-hallucination").first();
    await event.waitFor();
    expect(await event.getByTestId("phantom-chip").allTextContents()).toEqual(["t_nothere1", "t_nothere2"]);
    await shot(page, "hallucination-drawer");

    await api().tasks.complete.mutate({
      board,
      id: t.id,
      expected_run_id: claimed.run_id,
      summary: "split into nothing after all",
    });
    await column(page, "done").getByTestId(`card-${t.id}`).waitFor();
    await badge.waitFor({ state: "detached" });
    await row.waitFor({ state: "detached" });
    // The audit trail keeps the event.
    await drawer.getByTestId("event-completed").waitFor();
    expect(await drawer.getByTestId("event-hallucination").count()).toBeGreaterThan(0);

    // The strip can be dismissed for the session; it stays dismissed across a reload.
    await page.getByTestId("drawer-close").click();
    const other = (await api().tasks.create.mutate({ board, title: "Another epic", assignee: "coder" })).task;
    const run2 = await api().tasks.claim.mutate({ board, id: other.id });
    await expect(
      api().tasks.complete.mutate({ board, id: other.id, expected_run_id: run2.run_id, created_cards: ["t_ghost"] }),
    ).rejects.toThrow(/t_ghost/);
    await page.getByTestId(`attention-row-${other.id}`).waitFor();
    await page.getByTestId("attention-dismiss").click();
    await page.getByTestId("attention-strip").waitFor({ state: "detached" });
    await page.reload();
    await card(page, other.id).getByTestId("warning-badge").waitFor();
    expect(await page.getByTestId("attention-strip").count()).toBe(0);
    noPageErrors(b);
  });
});
