import { expect } from "vitest";
import { invariantViolations } from "../support/board-checks.ts";
import type { RemoteCluster, RemoteHost } from "./harness.ts";
import { timeToConsistent } from "./ledger.ts";
import { ScenarioRecorder } from "./report.ts";
import { closeBooks, drain, type remoteScenarios, seededRandom, sleep, startHosts, tokenLeaks } from "./scenario.ts";

/**
 * A link-fault scenario (link-cuts.test.ts, link-stalls.test.ts): two remote hosts, each behind a
 * loopback proxy, and tasks created in waves while each link is broken on its own seeded schedule.
 * Every task must end done with exactly one completed run; no completion may be lost.
 */
export interface FaultRun {
  scenario: string;
  kind: "cut" | "stall";
  tasks: number;
  faultsPerLink: number;
  faultMs: number;
  seed: number;
}

/**
 * Two hosts, `tasks` cards created in waves of ten every 10 s (every fifth needs the gpu host), and
 * on each link its own seeded schedule of `faultsPerLink` faults: a pause of 1–6 s, the fault for
 * `faultMs`, the link back, then the time until host and server agree.
 */
export async function faultRun(scenarios: ReturnType<typeof remoteScenarios>, o: FaultRun): Promise<void> {
  const title = `${o.tasks} tasks, 2 hosts, links ${o.kind === "cut" ? "cut" : "stalled"} ${o.faultMs / 1000} s × ${2 * o.faultsPerLink}`;
  const rec = new ScenarioRecorder(o.scenario, title);
  rec.seed = o.seed;
  rec.tasks = o.tasks;
  console.log(`remote ${o.scenario}: seed ${o.seed} (KANBAN_REMOTE_SEED=${o.seed} replays the schedule)`);
  const random = seededRandom(o.seed);
  const workerEnv = { FAKE_MIN_MS: "1000", FAKE_MAX_MS: "5000" };
  const cluster = await scenarios.start({
    leaseSeconds: 20,
    hosts: [
      { name: "cpu-1", labels: [], capacity: 3, workerEnv },
      { name: "gpu-1", labels: ["gpu"], capacity: 3, workerEnv },
    ],
  });
  let reachedEnd = false;
  try {
    // Every fifth task needs the gpu host: those wait out every fault of its link.
    const plans = Array.from({ length: o.tasks }, (_, i) => ({
      title: `remote ${i}`,
      requires: i % 5 === 4 ? ["gpu"] : [],
      wave: Math.floor(i / 10),
      // A seeded offset inside its wave, so creation interleaves with the faults differently per seed.
      offset: random() * 8000,
    }));
    const gaps = cluster.hosts.map(() => Array.from({ length: o.faultsPerLink }, () => 1000 + random() * 5000));
    await cluster.createTask(plans[0] as { title: string; requires: string[] });
    await startHosts(cluster);

    const create = async () => {
      for (const [i, p] of plans.entries()) {
        if (i === 0) continue;
        const wait = p.wave * 10_000 + p.offset - rec.elapsed() * 1000;
        if (wait > 0) await sleep(wait);
        await cluster.createTask({ title: p.title, requires: p.requires });
      }
    };
    const breakLink = async (host: RemoteHost, hostGaps: number[]) => {
      for (const gap of hostGaps) {
        await sleep(gap);
        const brokenAt = Date.now();
        if (o.kind === "cut") host.proxy.cut();
        else host.proxy.stall();
        await sleep(o.faultMs);
        host.proxy.restore();
        const restoredAt = Date.now();
        rec.fault(o.kind, host.name, brokenAt, restoredAt);
        console.log(
          `remote ${o.scenario}: ${host.name} ${o.kind} at ${rec.faults.at(-1)?.at_s} s, back at ${rec.elapsed()} s`,
        );
        rec.reconnects.push(await timeToConsistent(cluster, host, restoredAt));
      }
    };
    await Promise.all([create(), ...cluster.hosts.map((h, i) => breakLink(h, gaps[i] ?? []))]);
    await drain(cluster, o.tasks, 180_000);
    for (const h of cluster.hosts) await timeToConsistent(cluster, h, Date.now());
    reachedEnd = true;
  } finally {
    report(cluster, rec, reachedEnd, 2 * o.faultsPerLink, o.tasks);
  }
}

function report(
  cluster: RemoteCluster,
  rec: ScenarioRecorder,
  reachedEnd: boolean,
  faults: number,
  tasks: number,
): void {
  const db = cluster.reader();
  const violations = invariantViolations(db);
  const files = cluster.hostFilesIntoServerHome();
  const leaks = tokenLeaks(cluster);
  const reclaimed = db.prepare("SELECT count(*) FROM task_runs WHERE outcome = 'reclaimed'").pluck().get() as number;
  rec.notes.push(`${reclaimed} runs reclaimed by the server's sweep`);
  const {
    books,
    doubles,
    report: r,
  } = closeBooks(cluster, rec, reachedEnd && violations.length === 0 && files.length === 0 && leaks.length === 0);
  console.log(
    `remote ${rec.scenario}: ${r.faults.length} faults, ${books.made} completions made, ${books.accepted} accepted (${books.replayed} replayed), ` +
      `${books.late} late reports, ${books.lost.length} lost, ${doubles.length} double runs, ${reclaimed} reclaimed; ` +
      `reconnect → consistent ms: ${r.reconnect_to_consistent_ms.join(", ")}; ${r.wall_s} s`,
  );
  if (!reachedEnd) return; // the failure that got here is the one to see
  expect(books.lost).toEqual([]);
  expect(doubles).toEqual([]);
  expect(violations).toEqual([]);
  expect(files, "a host process or worker holds a file of the server's home").toEqual([]);
  expect(leaks).toEqual([]);
  expect(r.faults).toHaveLength(faults);
  const runs = db.prepare("SELECT count(*) FROM tasks WHERE status = 'done'").pluck().get();
  expect(runs).toBe(tasks);
}
