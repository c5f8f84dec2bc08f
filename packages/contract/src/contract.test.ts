import { describe, expect, it } from "vitest";
import {
  BOARD_COLUMNS,
  EVENT_KINDS,
  HALLUCINATION_EVENT_KINDS,
  isEventKind,
  isTaskStatus,
  isWorkspaceKind,
  LEGACY_EVENT_KINDS,
  RUN_OUTCOMES,
  TASK_STATUSES,
  WORKSPACE_KINDS,
} from "./index.ts";

describe("the shared vocabulary", () => {
  it("names each value once", () => {
    for (const list of [TASK_STATUSES, BOARD_COLUMNS, EVENT_KINDS, RUN_OUTCOMES, WORKSPACE_KINDS]) {
      expect(new Set<string>(list).size).toBe(list.length);
    }
  });

  it("shows every status but archived as a column, in status order", () => {
    expect(BOARD_COLUMNS).toEqual(TASK_STATUSES.filter((s) => s !== "archived"));
  });

  it("renames legacy event kinds to current ones, never to another legacy name", () => {
    for (const [old, now] of Object.entries(LEGACY_EVENT_KINDS)) {
      expect(isEventKind(now)).toBe(true);
      expect(isEventKind(old)).toBe(false);
    }
    for (const kind of HALLUCINATION_EVENT_KINDS) expect(isEventKind(kind)).toBe(true);
  });

  it("tells statuses and event kinds from other strings", () => {
    expect(["review", "qa_pending", "Ready", ""].map(isTaskStatus)).toEqual([true, false, false, false]);
    expect(["gave_up", "spawn_auto_blocked", "status"].map(isEventKind)).toEqual([true, false, true]);
    expect(["dir", "worktree", "scratch:x"].map(isWorkspaceKind)).toEqual([true, true, false]);
  });
});
