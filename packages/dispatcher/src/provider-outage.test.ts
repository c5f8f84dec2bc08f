import fs from "node:fs";
import path from "node:path";
import type { Board } from "@kanban/kernel";
import { afterEach, describe, expect, it } from "vitest";
import { FAKE_WORKER, killAll, makeHome, type TestHome, trackPool, waitFor } from "../test/helpers.ts";
import { createDispatcher, type Dispatcher } from "./dispatcher.ts";

/**
 * Issue 17's "provider outage", with a real dispatcher and real worker processes: while a flag file
 * exists the profile's worker answers like a provider that is down (prints an HTTP 503 and exits 1);
 * once it is gone the worker completes its task. Six cards failing together are one incident, the
 * profile is paused (one probe at a time), no card is blocked; when the outage ends the probe
 * succeeds, the incident closes and every card completes without a person.
 */
let home: TestHome | null = null;

afterEach(async () => {
  await killAll();
  home?.cleanup();
  home = null;
});

async function kinds(b: Board, ids: readonly string[], kind: string) {
  const out: { task_id: string; payload: Record<string, unknown> | null }[] = [];
  for (const id of ids)
    for (const e of await b.listEvents(id))
      if (e.kind === kind) out.push({ task_id: id, payload: e.payload as Record<string, unknown> | null });
  return out;
}

/** Spawns of the tick, and waits until each of those workers has exited. */
async function tickAndReap(d: Dispatcher): Promise<string[]> {
  const spawned = (await d.tick()).boards[0]?.spawned ?? [];
  await waitFor(() => spawned.every((s) => d.pool.exitStatus(s.pid ?? 0)), "this tick's workers to exit", 60_000);
  return spawned.map((s) => s.task_id);
}

describe("provider outage", { timeout: 120_000 }, () => {
  it("6 transient failures: one incident, the profile paused, nobody blocked; the probe heals it all", async () => {
    home = makeHome({});
    const flag = path.join(home.home, "provider-down");
    fs.writeFileSync(flag, "down");
    // The profile's worker: an outage while the flag exists, else the fake worker completing the task.
    const worker = path.join(home.home, "provider-worker.mjs");
    fs.writeFileSync(
      worker,
      [
        'import fs from "node:fs";',
        `if (fs.existsSync(${JSON.stringify(flag)})) {`,
        '  console.log("calling the provider... HTTP 503 Service Unavailable");',
        "  process.exit(1);",
        "}",
        `await import(${JSON.stringify(FAKE_WORKER)});`,
        "",
      ].join("\n"),
    );
    home.writeConfig({
      kanban: {
        crash_grace_seconds: 0,
        incident_threshold: 3,
        incident_window_seconds: 60,
        incident_probe_seconds: 3,
        incident_probe_max_seconds: 6,
      },
      profiles: { coder: { command: [process.execPath, worker, "complete", "{task_id}"], env: {}, skills: [] } },
    });
    const b = home.board();
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push((await b.createTask({ title: `card ${i}`, assignee: "coder" })).id);
    const d = createDispatcher(home.config(), { log: () => {} });
    trackPool(d.pool);

    // Tick 1: all six start and all six meet the outage.
    expect((await tickAndReap(d)).sort()).toEqual([...ids].sort());
    // Tick 2 books the six failures (one incident, folded, nothing counted) and starts nothing: the
    // probe's first slot is seconds away.
    expect(await tickAndReap(d)).toEqual([]);
    const [incident, ...others] = await b.listIncidents({ open: true });
    expect(others).toEqual([]);
    expect(incident).toMatchObject({ scope: "profile", scope_key: "coder", failure_class: "transient", failures: 6 });
    expect([...(incident?.task_ids ?? [])].sort()).toEqual([...ids].sort());
    expect(await kinds(b, ids, "incident_opened")).toHaveLength(1);
    expect(await kinds(b, ids, "incident_folded")).toHaveLength(3);
    for (const id of ids) expect(await b.requireTask(id)).toMatchObject({ status: "ready", consecutive_failures: 0 });
    const why = await b.explainMotion(ids[0] as string, { knownProfiles: ["coder"] });
    expect(why.line).toMatch(new RegExp(`^Paused by incident #${incident?.id} \\(transient on profile coder`));

    // Still down: one probe (never more), which fails the same way and doubles the wait.
    let probe: string[] = [];
    await waitFor(
      async () => {
        probe = await tickAndReap(d);
        return probe.length > 0;
      },
      "the first probe",
      10_000,
      200,
    );
    expect(probe).toHaveLength(1);
    expect(await tickAndReap(d)).toEqual([]);
    const backedOff = await b.getIncident(incident?.id as number);
    expect(backedOff).toMatchObject({ open: true, probes: 1, failures: 7, probe_run_id: null });

    // The provider is back: the next probe completes, the incident closes and every card runs.
    fs.rmSync(flag);
    let healed: string[] = [];
    await waitFor(
      async () => {
        healed = await tickAndReap(d);
        return healed.length > 0;
      },
      "the next probe",
      10_000,
      200,
    );
    expect(healed).toHaveLength(1);
    expect((await b.requireTask(healed[0] as string)).status).toBe("done");
    const rest = await tickAndReap(d);
    expect(rest.sort()).toEqual(ids.filter((id) => id !== healed[0]).sort());
    await waitFor(
      async () => (await Promise.all(ids.map((id) => b.requireTask(id)))).every((t) => t.status === "done"),
      "every card to complete",
      30_000,
    );
    expect(await b.getIncident(incident?.id as number)).toMatchObject({ open: false, closed_by: "probe" });
    expect((await kinds(b, ids, "incident_closed")).map((e) => e.task_id)).toEqual([healed[0]]);
    expect(await kinds(b, ids, "gave_up")).toEqual([]);
    expect(await b.listIncidents({ open: true })).toEqual([]);
  });
});
