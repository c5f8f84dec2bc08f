import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { TRANSIENT_EXIT_CODE } from "./constants.ts";
import type { HostFacts } from "./motion/index.ts";
import { scopeBoard } from "./scoped-board.ts";
import { createTestBoard, type TestBoard } from "./testing/index.ts";
import { dropFreeTestSchemas, settleTestSchemas } from "./testing/test-store.ts";

// Issue 17, incident folding: several runs of one profile failing with one class inside the window
// are one incident; the profile is paused except for one probe; folded runs count nothing.

const alive = new Set<number>();
let board: TestBoard;
let pid = 1000;
beforeEach(() => {
  alive.clear();
  board = createTestBoard({ isPidAlive: (p) => alive.has(p) }, { recycle: true });
});
afterEach(async () => {
  board.cleanup();
  await settleTestSchemas();
});
afterAll(async () => await dropFreeTestSchemas());

const FACTS: HostFacts = { dispatcher: { alive: true, interval_seconds: 60 }, knownProfiles: ["coder", "writer"] };

async function create(assignee = "coder", opts: { max_retries?: number; tenant?: string } = {}): Promise<string> {
  return (await board.createTask({ title: "work", assignee, ...opts })).id;
}

/** Claims `id` with a fresh worker pid (as the dispatcher does after spawning). */
async function claim(id: string): Promise<number> {
  const c = await board.claimTask(id);
  if (!c || c.current_run_id === null) throw new Error(`claim of ${id} failed`);
  pid += 1;
  await board.recordSpawn(id, pid, c.current_run_id);
  return pid;
}

/** Every worker in `pids` exits with `code`, seen by one crash sweep. */
async function sweep(pids: Map<number, number>) {
  return await board.detectCrashedWorkers({
    exitStatus: (p) => (pids.has(p) ? { code: pids.get(p) as number, signal: null } : undefined),
  });
}

/** The worker of `id` exits with `code` (one card per sweep: never a "systemic" burst). */
async function fails(id: string, code = 1) {
  const p = await claim(id);
  return await sweep(new Map([[p, code]]));
}

async function kinds(id: string, kind: string) {
  return (await board.listEvents(id)).filter((e) => e.kind === kind);
}

async function walk(limit = 10, dryRun = false) {
  return await board.claimNext(board.readyLane({ dryRun }), {}, limit);
}

describe("opening and folding", () => {
  it("the third crash of one profile inside the window opens ONE incident; later ones fold and count nothing", async () => {
    const ids = [await create(), await create(), await create(), await create("coder", { max_retries: 1 })];
    await fails(ids[0] as string);
    board.clock.advance(10);
    await fails(ids[1] as string);
    board.clock.advance(10);
    expect(await board.listIncidents({ open: true })).toEqual([]);
    await fails(ids[2] as string);
    const [incident] = await board.listIncidents({ open: true });
    expect(incident).toMatchObject({
      scope: "profile",
      scope_key: "coder",
      failure_class: "crashed",
      failures: 3,
      task_ids: ids.slice(0, 3),
      probes: 0,
      open: true,
      next_probe_at: board.clock.seconds + 30,
    });
    expect(incident?.last_error).toMatch(/exited with code 1/);
    const [opened] = await kinds(ids[2] as string, "incident_opened");
    expect(opened?.payload).toEqual({
      incident_id: incident?.id,
      scope: "profile",
      scope_key: "coder",
      failure_class: "crashed",
      failures: 3,
    });
    // The first two were counted before the outage was known; the third was folded.
    expect((await board.getTask(ids[0] as string))?.consecutive_failures).toBe(1);
    expect((await board.getTask(ids[2] as string))?.consecutive_failures).toBe(0);

    // A card with a limit of 1 fails while the incident is open: folded, never given up.
    await fails(ids[3] as string);
    expect(await board.getTask(ids[3] as string)).toMatchObject({ status: "ready", consecutive_failures: 0 });
    expect(await kinds(ids[3] as string, "gave_up")).toEqual([]);
    expect((await kinds(ids[3] as string, "incident_folded")).map((e) => e.payload)).toEqual([
      { incident_id: incident?.id },
    ]);
    const all = await board.listIncidents({});
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ failures: 4, task_ids: ids });
  });

  it("failures spread wider than the window, or of another class or profile, open nothing", async () => {
    const a = await create();
    const b = await create();
    const c = await create("writer");
    await fails(a);
    board.clock.advance(200);
    await fails(b);
    board.clock.advance(200); // the first is out of the 300 s window now
    await fails(a);
    await fails(c); // another profile
    await fails(b, TRANSIENT_EXIT_CODE); // another class
    expect(await board.listIncidents({})).toEqual([]);
  });

  it("a burst of the same crash in one sweep (systemic) still trips its cards (Hermes), and pauses the profile at once", async () => {
    const ids = [await create(), await create(), await create()];
    const later = await create();
    const pids = new Map<number, number>();
    for (const id of ids) pids.set(await claim(id), 1);
    const out = await sweep(pids);
    expect(out.auto_blocked.sort()).toEqual([...ids].sort());
    const [incident] = await board.listIncidents({ open: true });
    expect(incident).toMatchObject({ failure_class: "crashed", failures: 3 });
    expect([...(incident?.task_ids ?? [])].sort()).toEqual([...ids].sort());
    // Opened by the burst's first booked card, before any third crash was seen; the others folded in.
    expect((await Promise.all(ids.map((id) => kinds(id, "incident_opened")))).flat()).toHaveLength(1);
    expect((await Promise.all(ids.map((id) => kinds(id, "incident_folded")))).flat()).toHaveLength(2);
    const skip = (await walk(10, true)).skipped.find((s) => s.task_id === later);
    expect(skip).toMatchObject({ reason: "incident", incident_id: incident?.id });
  });

  it("one card failing again and again is its own breaker's business, not an incident", async () => {
    board.cleanup();
    board = createTestBoard({ isPidAlive: (p) => alive.has(p), failureLimit: 10 }, { recycle: true });
    const id = await create();
    for (let i = 0; i < 4; i++) await fails(id);
    expect(await board.listIncidents({})).toEqual([]);
    expect((await board.getTask(id))?.consecutive_failures).toBe(4);
  });

  it("transient failures (exit 69) fold as their own class", async () => {
    const ids = [await create(), await create(), await create()];
    for (const id of ids) await fails(id, TRANSIENT_EXIT_CODE);
    const [incident] = await board.listIncidents({ open: true });
    expect(incident).toMatchObject({ failure_class: "transient", failures: 3, task_ids: ids });
  });
});

describe("the pause and the probe", () => {
  async function outage(): Promise<{ ids: string[]; incident: number }> {
    const ids = [await create(), await create(), await create(), await create()];
    for (const id of ids.slice(0, 3)) await fails(id, TRANSIENT_EXIT_CODE);
    const [incident] = await board.listIncidents({ open: true });
    return { ids, incident: incident?.id as number };
  }

  it("pauses the profile (lane and `why` agree), other profiles go on; one probe once its time comes", async () => {
    const { ids, incident } = await outage();
    const other = await create("writer");
    const dry = await walk(10, true);
    expect(dry.claimed.map((c) => c.task_id)).toEqual([other]);
    const skip = dry.skipped.find((s) => s.task_id === ids[3]);
    expect(skip).toMatchObject({ reason: "incident", incident_id: incident, failure_class: "transient" });
    const motion = await board.explainMotion(ids[3] as string, FACTS);
    expect(motion.code).toBe("incident_paused");
    expect(motion.line).toMatch(
      new RegExp(
        `^Paused by incident #${incident} \\(transient on profile coder, since .* UTC; next probe at .* UTC\\)`,
      ),
    );

    board.clock.advance(30);
    const real = await walk(10);
    // The probe skips the transient cooldown (the incident paces it): one card of coder, not four.
    const coder = real.claimed.filter((c) => c.assignee === "coder");
    expect(coder).toHaveLength(1);
    const probe = coder[0]?.task as NonNullable<(typeof coder)[0]["task"]>;
    expect(await board.getIncident(incident)).toMatchObject({
      probe_task_id: probe.id,
      probe_run_id: probe.current_run_id,
    });
    expect((await board.explainMotion(ids.find((i) => i !== probe.id) as string, FACTS)).line).toMatch(
      /a probe is running\)/,
    );
    // Nothing more for coder while the probe runs.
    board.clock.advance(60);
    expect((await walk(10)).claimed).toEqual([]);
  });

  it("a probe failing the same way backs off (30 s doubled); a completed probe closes it and the profile resumes", async () => {
    const { ids, incident } = await outage();
    board.clock.advance(30);
    const first = (await walk(10)).claimed[0];
    expect(first?.assignee).toBe("coder");
    const firstPid = 5000;
    await board.recordSpawn(first?.task_id as string, firstPid, first?.task?.current_run_id as number);
    await sweep(new Map([[firstPid, TRANSIENT_EXIT_CODE]]));
    const after = await board.getIncident(incident);
    expect(after).toMatchObject({
      probes: 1,
      probe_run_id: null,
      next_probe_at: board.clock.seconds + 60,
      failures: 4,
    });
    board.clock.advance(59);
    expect((await walk(10)).claimed).toEqual([]);
    board.clock.advance(1);
    const second = (await walk(10)).claimed;
    expect(second).toHaveLength(1);
    const probeId = second[0]?.task_id as string;
    await board.completeTask(probeId, { summary: "provider is back" });
    // The next walk settles the probe: closed, and every paused card (cooldowns of the outage waived) goes.
    const resumed = await walk(10);
    expect(await board.getIncident(incident)).toMatchObject({ open: false, closed_by: "probe" });
    expect((await kinds(probeId, "incident_closed")).map((e) => e.payload)).toEqual([
      { incident_id: incident, closed_by: "probe" },
    ]);
    expect(resumed.claimed.map((c) => c.task_id).sort()).toEqual(ids.filter((i) => i !== probeId).sort());
    for (const id of ids) expect(await kinds(id, "gave_up")).toEqual([]);
  });
});

describe("resume by a person, tenancy", () => {
  it("resumeIncident closes it with person:<by> on the triggering card; typed errors for unknown and closed", async () => {
    const ids = [await create(), await create(), await create()];
    for (const id of ids) await fails(id);
    const [incident] = await board.listIncidents({ open: true });
    const id = incident?.id as number;
    const resumed = await board.resumeIncident(id, { by: "alice" });
    expect(resumed).toMatchObject({ open: false, closed_by: "person:alice" });
    // Told on the card whose failure opened it (the third), not on the first folded one.
    expect(await kinds(ids[0] as string, "incident_closed")).toEqual([]);
    expect((await kinds(ids[2] as string, "incident_closed")).map((e) => e.payload)).toEqual([
      {
        incident_id: id,
        closed_by: "person:alice",
      },
    ]);
    expect(await board.listIncidents({ open: true })).toEqual([]);
    await expect(board.resumeIncident(id, { by: "bob" })).rejects.toMatchObject({ code: "WRONG_STATE" });
    await expect(board.resumeIncident(id + 99, { by: "bob" })).rejects.toMatchObject({ code: "NOT_FOUND" });
    // Resumed: the cards of coder are claimable again, and a new failure starts a fresh count.
    expect((await walk(10)).claimed.length).toBe(3);
  });

  it("a tenant sees and resumes only incidents of its own cards; the operator sees all", async () => {
    for (let i = 0; i < 3; i++) await fails(await create("coder", { tenant: "acme" }));
    for (let i = 0; i < 3; i++) await fails(await create("writer", { tenant: "globex" }));
    const acme = scopeBoard(board, { tenant: "acme" });
    const globex = scopeBoard(board, { tenant: "globex" });
    const operator = scopeBoard(board, { tenant: null });
    expect((await operator.listIncidents({ open: true })).map((i) => i.scope_key).sort()).toEqual(["coder", "writer"]);
    const mine = await acme.listIncidents({ open: true });
    expect(mine.map((i) => [i.scope_key, i.tenant])).toEqual([["coder", "acme"]]);
    const theirs = (await globex.listIncidents({})).map((i) => i.id);
    await expect(acme.resumeIncident(theirs[0] as number, { by: "eve" })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await acme.resumeIncident(mine[0]?.id as number, { by: "ann" });
    expect(await acme.listIncidents({ open: true })).toEqual([]);
  });
});

describe("a remote host's outage", () => {
  const HOST = "kh-00000000000000a7";
  const OTHER = "kh-00000000000000b8";

  async function hello(id: string) {
    await board.hostHello({
      host_id: id,
      name: null,
      labels: [],
      version: "1.0.0",
      capacity: 4,
      tenant: null,
      lease_seconds: 30,
      runs: [],
    });
  }

  function hostClaim(id: string, max = 10) {
    return board.claimForHost({ host_id: id, pid: 7, labels: [], tenant: null, max, lease_seconds: 30 });
  }

  it("runs of three profiles dying on one host open a host incident: that host is paused, another is not", async () => {
    await hello(HOST);
    await hello(OTHER);
    const ids = [await create("coder"), await create("writer"), await create("tester")];
    const claimed = await hostClaim(HOST);
    expect(claimed.claimed.map((c) => c.task_id).sort()).toEqual([...ids].sort());
    for (const c of claimed.claimed)
      await board.recordRemoteExit(c.task?.current_run_id as number, { exit_code: 1, signal: null });
    const open = await board.listIncidents({ open: true });
    expect(open.map((i) => [i.scope, i.scope_key, i.failure_class, i.failures])).toEqual([
      ["host", HOST, "crashed", 3],
    ]);
    // The remote runs counted nothing past the incident's opening (the third was folded).
    expect((await board.getTask(claimed.claimed[2]?.task_id as string))?.consecutive_failures).toBe(0);
    const again = await hostClaim(HOST);
    expect(again.claimed).toEqual([]);
    expect(new Set(again.skipped.map((s) => s.reason))).toEqual(new Set(["incident"]));
    expect((await hostClaim(OTHER)).claimed.map((c) => c.task_id).sort()).toEqual([...ids].sort());
  });
});
