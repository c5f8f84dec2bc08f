import { describe, expect, it } from "vitest";
import { caught, useTestBoards } from "./testing/helpers.ts";

// Labels a task requires of the host that claims it (issue 15): stored beside Hermes' row, shown on
// every read of a task, and the claim walk's routing rule.

const board = useTestBoards();
const ids = (r: { claimed: { task_id: string }[] }) => r.claimed.map((c) => c.task_id);

describe("requires: labels on a task", () => {
  it("create stores them trimmed, lower-cased, deduped and sorted; every read shows them, [] when none", async () => {
    const b = board();
    const t = await b.createTask({ title: "build", assignee: "alice", requires: [" XCode", "macos", "xcode", ""] });
    const plain = await b.createTask({ title: "plain", assignee: "alice" });
    expect(t.requires).toEqual(["macos", "xcode"]);
    expect(plain.requires).toEqual([]);
    expect((await b.requireTask(t.id)).requires).toEqual(["macos", "xcode"]);
    expect((await b.getTask(plain.id))?.requires).toEqual([]);
    const listed = new Map((await b.listTasks()).map((x) => [x.id, x.requires]));
    expect(Object.fromEntries(listed)).toEqual({ [t.id]: ["macos", "xcode"], [plain.id]: [] });
    const page = await b.taskPage({}, {});
    expect(Object.fromEntries(page.tasks.map((x) => [x.id, x.requires]))).toEqual(Object.fromEntries(listed));
    const view = await b.boardView("default", {}, { doneLimit: 50, columnLimit: 500, scopeTenant: null });
    const cards = view.columns.flatMap((c) => c.tasks);
    expect(Object.fromEntries(cards.map((c) => [c.id, c.requires]))).toEqual(Object.fromEntries(listed));
    const created = (await b.listEvents(t.id)).find((e) => e.kind === "created");
    expect(created?.payload?.requires).toEqual(["macos", "xcode"]);
  });

  it("refuses a bad label or too many with a typed INVALID, writing nothing", async () => {
    const b = board();
    for (const bad of [["mac os"], ["-x"], ["a".repeat(65)], ["ok", "é"]]) {
      const err = await caught(() => b.createTask({ title: "x", requires: bad }));
      expect(err.code).toBe("INVALID_INPUT");
      expect(err.message).toMatch(/invalid label/);
    }
    const many = Array.from({ length: 17 }, (_, i) => `l${i}`);
    expect((await caught(() => b.createTask({ title: "x", requires: many }))).message).toBe(
      "a task may require at most 16 labels (got 17)",
    );
    expect(await b.listTasks()).toEqual([]);
  });

  it("update and patch replace the list (event `edited` names requires); the same set again is no edit", async () => {
    const b = board();
    const t = await b.createTask({ title: "x", requires: ["gpu"] });
    await b.updateTask(t.id, { requires: ["MacOS", "xcode"] });
    expect((await b.requireTask(t.id)).requires).toEqual(["macos", "xcode"]);
    await b.updateTask(t.id, { requires: ["xcode", "macos"] });
    const edits = (await b.listEvents(t.id)).filter((e) => e.kind === "edited");
    expect(edits.map((e) => e.payload)).toEqual([{ fields: ["requires"] }]);
    const patched = await b.patchTask(t.id, { requires: [], title: "y" });
    expect(patched.task.requires).toEqual([]);
    expect(patched.task.title).toBe("y");
    expect((await caught(() => b.patchTask(t.id, { title: "z", requires: ["bad label"] }))).code).toBe("INVALID_INPUT");
    // The refused patch changed nothing, its title included.
    expect((await b.requireTask(t.id)).title).toBe("y");
  });

  it("a deleted task takes its labels with it", async () => {
    const b = board();
    const t = await b.createTask({ title: "x", requires: ["gpu"] });
    await b.deleteTask(t.id);
    expect(await b.requiresOf([t.id])).toEqual(new Map());
  });
});

describe("the claim walk routes by labels and tenant", () => {
  it("a claimer that offers no labels (a plain local dispatcher) skips tasks that require any, reason `labels`", async () => {
    const b = board();
    const mac = (await b.createTask({ title: "mac", assignee: "alice", requires: ["macos"] })).id;
    const any = (await b.createTask({ title: "any", assignee: "alice" })).id;
    const r = await b.claimNext(b.readyLane(), {}, 5);
    expect(ids(r)).toEqual([any]);
    expect(r.skipped).toEqual([{ task_id: mac, reason: "labels", requires: ["macos"], missing: ["macos"] }]);
    expect((await b.requireTask(mac)).status).toBe("ready");
    // No event on the skipped task: routing is not a hold worth recording.
    expect((await b.listEvents(mac)).map((e) => e.kind)).toEqual(["created"]);
  });

  it("a claimer offering every required label takes the task; one lacking any one of them never does", async () => {
    const b = board();
    const t = (await b.createTask({ title: "ios", assignee: "alice", requires: ["macos", "xcode"] })).id;
    const lacking = await b.claimNext(b.readyLane({ labels: ["macos", "gpu"] }), {}, 5);
    expect(ids(lacking)).toEqual([]);
    expect(lacking.skipped).toEqual([
      { task_id: t, reason: "labels", requires: ["macos", "xcode"], missing: ["xcode"] },
    ]);
    const fits = await b.claimNext(b.readyLane({ labels: ["gpu", "macos", "xcode"] }), {}, 5);
    expect(ids(fits)).toEqual([t]);
  });

  it("a tenant-bound claimer walks only its tenant's tasks, and reports nothing of the others", async () => {
    const b = board();
    const other = (await b.createTask({ title: "globex", assignee: "alice", tenant: "globex" })).id;
    const own = (await b.createTask({ title: "acme", assignee: "alice", tenant: "acme" })).id;
    const r = await b.claimNext(b.readyLane({ tenant: "acme" }), {}, 5);
    expect(ids(r)).toEqual([own]);
    expect(r.skipped).toEqual([]);
    expect((await b.requireTask(other)).status).toBe("ready");
  });
});
