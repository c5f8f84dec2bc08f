import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Board } from "@kanban/kernel";
import { afterEach, describe, expect, it } from "vitest";
import { gitRepo, killAll, makeHome, type TestHome, trackPool, waitFor } from "../../test/helpers.ts";
import { createDispatcher, type Dispatcher } from "../dispatcher.ts";

/**
 * Completion gates end to end (issue 20): a real dispatcher spawns real worker processes whose
 * completions the kernel holds in review; the dispatcher then runs the card's acceptance command in
 * its workspace and reports, or the review lane spawns the gate's reviewer profile.
 */
const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "test", "fake-gate-worker.mjs");
let home: TestHome | null = null;
let dispatcher: Dispatcher | null = null;
let logs: string[] = [];

afterEach(async () => {
  await dispatcher?.gates.drain();
  dispatcher = null;
  await killAll();
  home?.cleanup();
  home = null;
  logs = [];
});

function profile() {
  return { command: [process.execPath, WORKER, "{task_id}"], env: {}, skills: [] };
}

function start(h: TestHome): Dispatcher {
  // A token in the dispatcher's environment: the acceptance command must not see it.
  const d = createDispatcher(h.config({ KANBAN_TOKEN: "kbt_dispatcher_secret" }), {
    log: (l) => logs.push(l),
  });
  trackPool(d.pool);
  dispatcher = d;
  return d;
}

const statusIs = (b: Board, id: string, status: string) => async () => (await b.getTask(id))?.status === status;

/**
 * The workspace of the card: check.js passes only once fixed.txt exists, and prints what it saw.
 * `git`: the directory is a repository, so each round also records the change.
 */
function workspace(h: TestHome, opts: { git?: boolean } = {}): string {
  const dir = path.join(fs.realpathSync(h.home), "project");
  if (opts.git === true) gitRepo(dir);
  else fs.mkdirSync(dir);
  fs.writeFileSync(
    path.join(dir, "check.js"),
    `const fs = require("fs");
console.log("token seen: " + (process.env.KANBAN_TOKEN ?? "none"));
if (!fs.existsSync("fixed.txt")) { console.error("CHECK FAILED: fixed.txt is missing"); process.exit(1); }
console.log("CHECK OK");
`,
  );
  return dir;
}

describe("completion gates with a real dispatcher", { timeout: 120_000 }, () => {
  it("runs the acceptance command after each completion: failed → back to ready with the output, fixed → done", async () => {
    home = makeHome({ kanban: { crash_grace_seconds: 0 }, profiles: { coder: profile() } });
    const b = home.board();
    const dir = workspace(home, { git: true });
    const t = await b.createTask({ title: "fix it", assignee: "coder", workspace_kind: "dir", workspace_path: dir });
    await b.setGates("card", t.id, { commands: [["node", "check.js"]] });
    const d = start(home);

    // First attempt: the worker completes without fixing anything; the kernel holds it in review.
    await d.tick();
    await waitFor(statusIs(b, t.id, "review"), "the first completion");
    await d.tick();
    expect(d.gates.active).toBe(1);
    await d.gates.drain();
    const failed = await b.requireTask(t.id);
    expect(failed).toMatchObject({ status: "ready", assignee: "coder", consecutive_failures: 1 });
    const comment = (await b.listComments(t.id)).at(-1);
    expect(comment?.author).toBe("kanban-gates");
    expect(comment?.body).toContain("GATE FAILED");
    expect(comment?.body).toContain("$ node check.js");
    expect(comment?.body).toContain("CHECK FAILED: fixed.txt is missing");
    expect(comment?.body).toContain("token seen: none");
    let gates = await b.cardGates(t.id);
    expect(gates.rounds[0]?.items.map((i) => [i.gate, i.name, i.outcome])).toEqual([
      ["command", "node check.js", "failed"],
      ["change", expect.stringMatching(/^against [0-9a-f]{12}$/), "recorded"],
    ]);
    expect(gates.rounds[0]?.items[1]?.detail?.files).toEqual([{ path: "check.js", status: "A" }]);
    expect(logs.some((l) => l.includes(`gates of ${t.id}`) && l.includes("failed"))).toBe(true);
    expect(logs.join("\n")).not.toContain("kbt_dispatcher_secret");

    // Second attempt: the worker writes fixed.txt, completes, and the command passes.
    await waitFor(async () => {
      await d.tick();
      return (await b.getTask(t.id))?.status !== "ready";
    }, "the second attempt to be spawned");
    await waitFor(statusIs(b, t.id, "review"), "the second completion");
    await d.tick();
    await d.gates.drain();
    const passed = await b.requireTask(t.id);
    expect(passed).toMatchObject({ status: "done", consecutive_failures: 0 });
    gates = await b.cardGates(t.id);
    expect(gates.verification).toBeNull();
    expect(gates.rounds).toHaveLength(2);
    expect(gates.rounds[0]?.items.map((i) => [i.gate, i.name, i.outcome])).toEqual([
      ["command", "node check.js", "passed"],
      ["change", expect.stringMatching(/^against /), "recorded"],
    ]);
    expect(gates.rounds[0]?.items[0]?.body).toContain("CHECK OK");
    expect(gates.rounds[0]?.items[1]?.detail?.files).toEqual([
      { path: "check.js", status: "A" },
      { path: "fixed.txt", status: "A" },
    ]);
    expect(gates.rounds[0]?.items[1]?.body).toContain("+fixed");
    expect(logs.some((l) => l.includes(`gates of ${t.id}`) && l.includes("passed"))).toBe(true);
    // Reading the change left the repository as it was: nothing staged or committed.
    expect(execFileSync("git", ["status", "--porcelain"], { cwd: dir, encoding: "utf8" })).toBe(
      "?? check.js\n?? fixed.txt\n",
    );
  });

  it("sends a card whose workspace is not on this machine back blocked, with one error", async () => {
    home = makeHome({ kanban: { crash_grace_seconds: 0 }, profiles: { coder: profile() } });
    const b = home.board();
    const dir = workspace(home);
    const t = await b.createTask({ title: "gone", assignee: "coder", workspace_kind: "dir", workspace_path: dir });
    await b.setGates("card", t.id, { commands: [["node", "check.js"]] });
    const d = start(home);
    await d.tick();
    await waitFor(statusIs(b, t.id, "review"), "the completion");
    fs.rmSync(dir, { recursive: true, force: true });
    await d.tick();
    await d.gates.drain();
    const task = await b.requireTask(t.id);
    expect(task.status).toBe("blocked");
    expect(task.consecutive_failures).toBe(0);
    const [item] = (await b.cardGates(t.id)).rounds[0]?.items ?? [];
    expect(item).toMatchObject({ gate: "command", outcome: "error" });
    expect(item?.detail?.error).toBe(`workspace ${dir} is not on this machine`);
  });

  it("a one-shot dispatch (`kanban dispatch --once`) runs the waiting rounds and returns with their verdicts", async () => {
    home = makeHome({ kanban: { crash_grace_seconds: 0 }, profiles: { coder: profile() } });
    const b = home.board();
    const dir = workspace(home);
    fs.writeFileSync(path.join(dir, "fixed.txt"), "");
    const t = await b.createTask({ title: "once", assignee: "coder", workspace_kind: "dir", workspace_path: dir });
    await b.setGates("card", t.id, { commands: [["node", "check.js"]] });
    // Completed by a worker the loop never saw (a person's script, another machine's run long gone).
    const claim = await b.claimTask(t.id, { claimer: `${os.hostname()}:1` });
    await b.completeTask(t.id, { expected_run_id: claim?.current_run_id as number });
    expect((await b.requireTask(t.id)).status).toBe("review");
    const d = start(home);
    await d.once();
    expect(d.gates.active).toBe(0);
    expect((await b.requireTask(t.id)).status).toBe("done");
    const [item] = (await b.cardGates(t.id)).rounds[0]?.items ?? [];
    expect(item).toMatchObject({ gate: "command", outcome: "passed" });
    expect(item?.body).toContain("CHECK OK");
  });

  it("a stopping dispatcher waits for the rounds it is running and reports them", async () => {
    home = makeHome({ kanban: { crash_grace_seconds: 0 }, profiles: { coder: profile() } });
    const b = home.board();
    const dir = workspace(home);
    fs.writeFileSync(path.join(dir, "fixed.txt"), "");
    const t = await b.createTask({ title: "slow", assignee: "coder", workspace_kind: "dir", workspace_path: dir });
    await b.setGates("card", t.id, {
      commands: [{ name: "slow", argv: ["node", "-e", "setTimeout(() => {}, 1500)"] }],
    });
    const claim = await b.claimTask(t.id, { claimer: "elsewhere:1" });
    await b.completeTask(t.id, { expected_run_id: claim?.current_run_id as number });
    const d = start(home);
    const running = d.run();
    await waitFor(() => d.gates.active === 1, "the round to start");
    d.stop();
    await running;
    expect(d.gates.active).toBe(0);
    expect((await b.requireTask(t.id)).status).toBe("done");
    expect(logs.at(-1)).toBe("stopped");
  });

  it("hands the card to the gate's reviewer profile: changes requested → implementer, approved → done", async () => {
    home = makeHome({ kanban: { crash_grace_seconds: 0 }, profiles: { coder: profile(), critic: profile() } });
    const b = home.board();
    const t = await b.createTask({ title: "parse it", assignee: "coder" });
    await b.setGates("card", t.id, { reviewer: "critic" });
    const d = start(home);

    await d.tick();
    await waitFor(statusIs(b, t.id, "review"), "the implementer's completion");
    expect((await b.requireTask(t.id)).assignee).toBe("critic");
    const second = await d.tick();
    expect(second.boards[0]?.spawned).toEqual([expect.objectContaining({ task_id: t.id, assignee: "critic" })]);
    await waitFor(statusIs(b, t.id, "ready"), "the reviewer to request changes");
    expect((await b.requireTask(t.id)).assignee).toBe("coder");
    let [round] = (await b.cardGates(t.id)).rounds;
    expect(round?.items.map((i) => [i.gate, i.name, i.outcome, i.detail?.reason])).toEqual([
      ["reviewer", "critic", "failed", "handle the empty input"],
    ]);

    await waitFor(async () => {
      await d.tick();
      return (await b.getTask(t.id))?.status !== "ready";
    }, "the implementer's second run");
    await waitFor(statusIs(b, t.id, "review"), "the second completion");
    expect((await b.requireTask(t.id)).assignee).toBe("critic");
    await d.tick();
    await waitFor(statusIs(b, t.id, "done"), "the reviewer to approve");
    [round] = (await b.cardGates(t.id)).rounds;
    expect(round?.items.map((i) => [i.gate, i.name, i.outcome])).toEqual([["reviewer", "critic", "passed"]]);
    const runs = await b.listRuns(t.id);
    expect(runs.map((r) => r.profile)).toEqual(["coder", "critic", "coder", "critic"]);
    // No acceptance commands on this card: the runner never took a round.
    expect(logs.some((l) => l.includes("gates of"))).toBe(false);
  });
});
