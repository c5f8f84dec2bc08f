import { describe, it } from "vitest";
import { faultRun } from "./link-faults.ts";
import { remoteScenarios } from "./scenario.ts";

/**
 * A stalled link is the nastier fault: connections stay open and answer nothing, so every call
 * waits for its own timeout instead of failing at once. 20 tasks on two hosts, each link stalled
 * for 20 s twice on its own seeded schedule (KANBAN_REMOTE_SEED=<seed> replays it; this file uses
 * seed + 1, as the cuts file uses the seed itself).
 */
const STALL_MS = 20_000;
const SEED = Number(process.env.KANBAN_REMOTE_SEED ?? Math.floor(Math.random() * 2 ** 31));

const scenarios = remoteScenarios();

describe("remote hosts: link stalls", () => {
  it(`20 tasks on two hosts while their links stall ${STALL_MS / 1000} s 4 times: all done once, nothing lost`, async () => {
    await faultRun(scenarios, {
      scenario: "link-stalls",
      kind: "stall",
      tasks: 20,
      faultsPerLink: 2,
      faultMs: STALL_MS,
      seed: SEED + 1,
    });
  }, 400_000);
});
