import { describe, expect, it } from "vitest";
import {
  cardMotionLine,
  footprintFor,
  formatBytes,
  formatCpu,
  lastLogLine,
  motionFamily,
  readFootprint,
  workerHost,
} from "./motion.ts";

describe("motionFamily", () => {
  it.each([
    ["waiting_on_parents", "waiting"],
    ["in_todo", "attention"],
    ["scheduled", "waiting"],
    ["ready_waiting_for_tick", "waiting"],
    ["claimed_not_spawned", "waiting"],
    ["profile_cap_full", "held"],
    ["host_cap_full", "held"],
    ["memory_floor", "held"],
    ["respawn_guard", "guard"],
    ["breaker_tripped", "breaker"],
    ["running_quiet", "unhealthy"],
    ["running_stale", "unhealthy"],
    ["running_orphaned", "unhealthy"],
    ["lease_expiring", "unhealthy"],
    ["unassigned", "attention"],
    ["not_runnable_profile", "attention"],
    ["no_dispatcher", "attention"],
    ["blocked", "attention"],
    ["in_triage", "attention"],
    ["in_review", "attention"],
    ["no_host_for_labels", "nohost"],
    ["done", "settled"],
    ["archived", "settled"],
    ["running_healthy", "moving"],
    ["unknown_status", "other"],
    ["a_code_from_a_newer_server", "other"],
  ])("%s is %s", (code, family) => {
    expect(motionFamily(code)).toBe(family);
  });
});

describe("cardMotionLine", () => {
  it("keeps the server's sentence as it is", () => {
    const m = { code: "waiting_on_parents", line: "Waiting on t_1 (ready)." };
    expect(cardMotionLine(m)).toBe(m);
  });
  it("shows nothing for a moving, settled or missing motion, or an empty line", () => {
    expect(cardMotionLine(undefined)).toBeNull();
    expect(cardMotionLine(null)).toBeNull();
    expect(cardMotionLine({ code: "running_healthy", line: "Running." })).toBeNull();
    expect(cardMotionLine({ code: "done", line: "Done." })).toBeNull();
    expect(cardMotionLine({ code: "unassigned", line: "  " })).toBeNull();
  });
  it("shows an unknown code's line plainly", () => {
    expect(cardMotionLine({ code: "no_host_with_labels", line: "No host has gpu." })?.line).toBe("No host has gpu.");
  });
});

describe("footprints", () => {
  const sample = {
    run_id: 7,
    task_id: "t_a",
    pids: [10, 11, 12],
    rss_bytes: 3 * 1024 * 1024,
    cpu_percent: 2.5,
    sampled_at: 100,
  };

  it("reads pids as a list or a count", () => {
    expect(readFootprint(sample)?.processes).toBe(3);
    expect(readFootprint({ ...sample, pids: 4 })?.processes).toBe(4);
    expect(readFootprint({ task_id: "t_a" })).toBeNull();
    expect(readFootprint("nope")).toBeNull();
  });

  it("prefers tasks.why's detail, else the dispatcher's list for the same run", () => {
    const other = { ...sample, task_id: "t_b", pids: [99] };
    const oldRun = { ...sample, run_id: 6, pids: [1] };
    expect(
      footprintFor({
        whyDetail: { footprint: { ...sample, pids: [1, 2] } },
        dispatcherFootprints: [sample],
        taskId: "t_a",
        runId: 7,
      })?.processes,
    ).toBe(2);
    expect(
      footprintFor({ whyDetail: {}, dispatcherFootprints: [other, oldRun, sample], taskId: "t_a", runId: 7 })?.pids,
    ).toEqual([10, 11, 12]);
    expect(footprintFor({ whyDetail: null, dispatcherFootprints: [oldRun], taskId: "t_a", runId: 7 })).toBeNull();
    const elsewhere = { ...sample, board: "other" };
    expect(
      footprintFor({ whyDetail: null, dispatcherFootprints: [elsewhere], taskId: "t_a", runId: 7, board: "mine" }),
    ).toBeNull();
    expect(
      footprintFor({ whyDetail: null, dispatcherFootprints: [elsewhere], taskId: "t_a", runId: 7, board: "other" })
        ?.board,
    ).toBe("other");
    expect(footprintFor({ whyDetail: null, dispatcherFootprints: undefined, taskId: "t_a", runId: 7 })).toBeNull();
  });

  it("formats memory and CPU compactly", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(812 * 1024)).toBe("812 KiB");
    expect(formatBytes(3.25 * 1024 * 1024)).toBe("3.3 MiB");
    expect(formatBytes(182 * 1024 * 1024)).toBe("182 MiB");
    expect(formatCpu(0)).toBe("0%");
    expect(formatCpu(3.54)).toBe("3.5%");
    expect(formatCpu(187.4)).toBe("187%");
  });
});

describe("lastLogLine", () => {
  it("is the last non-empty line", () => {
    expect(lastLogLine("a\nb\n\n")).toBe("b");
    expect(lastLogLine("one line")).toBe("one line");
    expect(lastLogLine("")).toBeNull();
    expect(lastLogLine(null)).toBeNull();
  });
});

describe("workerHost", () => {
  it("is the server's host, else the claim lock's host part", () => {
    expect(workerHost({ host: "box-2" }, "box-1:42")).toBe("box-2");
    expect(workerHost({}, "box-1:42")).toBe("box-1");
    expect(workerHost(null, null)).toBeNull();
    expect(workerHost(null, "nocolon")).toBeNull();
  });
});
