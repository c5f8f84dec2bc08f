import { describe, expect, it } from "vitest";
import { formatEvent, NEEDS_YOU_KINDS, NOTIFY_EVENT_KINDS } from "./format.ts";

const task = { id: "t_1a2b", title: "Migrate the billing DB", status: "blocked", assignee: "alice" };
const at = 1_700_000_000;
const fmt = (kind: string, payload: Record<string, unknown> | null = null, publicUrl: string | null = null) =>
  formatEvent({ board: "ops", task, event: { id: 9, kind, created_at: at, payload }, publicUrl });

describe("notify messages say what happened, why, and what next", () => {
  it("blocked: the reason, how to unblock, needs you, and the card's link", () => {
    const m = fmt("blocked", { reason: "need the staging password\nmore detail" }, "http://host:3000/");
    expect(m.text).toBe(
      [
        "⏸ [ops] @alice t_1a2b blocked — Migrate the billing DB",
        "Why: need the staging password",
        "Next: Answer on the card (a comment), then `kanban unblock t_1a2b`.",
      ].join("\n"),
    );
    expect(m.headline).toBe("⏸ [ops] @alice t_1a2b blocked — Migrate the billing DB");
    expect(m.needs_you).toBe(true);
    expect(m.link).toBe("http://host:3000/?board=ops&task=t_1a2b");
    expect(m.event).toEqual({ id: 9, kind: "blocked", created_at: at, payload: expect.any(Object) });
  });

  it("a breaker block points at the cause, not at answering", () => {
    const m = fmt("blocked", { reason: "spawn failed 3 times", source: "circuit_breaker" });
    expect(m.text).toContain("blocked after repeated failures");
    expect(m.text).toContain("Next: Fix the cause");
  });

  it("completed: the summary's first line, nothing waiting, not needs-you; no link without public_url", () => {
    const m = fmt("completed", { summary: "\n  Migrated 14 tables; 0 errors\nlong log..." });
    expect(m.text).toContain("✔ [ops] @alice t_1a2b done — Migrate the billing DB");
    expect(m.text).toContain("Why: Migrated 14 tables; 0 errors");
    expect(m.text).not.toContain("long log");
    expect(m.needs_you).toBe(false);
    expect(m.link).toBeNull();
  });

  it("the needs-you kinds: blocked, gave_up, block_loop_detected, review_requested, approval_requested, incident_opened, auto_revive_exhausted", () => {
    const marked = NOTIFY_EVENT_KINDS.filter((k) => fmt(k).needs_you);
    expect(marked).toEqual([
      "blocked",
      "gave_up",
      "block_loop_detected",
      "review_requested",
      "approval_requested",
      "incident_opened",
      "auto_revive_exhausted",
    ]);
    expect([...NEEDS_YOU_KINDS].sort()).toEqual([...marked].sort());
  });

  it("every notify kind has its own icon and wording, and a long reason is cut", () => {
    for (const kind of NOTIFY_EVENT_KINDS) {
      const m = fmt(kind, { reason: "r".repeat(500), status: "ready", from: "blocked" });
      // "•" and the kind's bare words are what an unknown kind gets
      expect(m.headline.startsWith("•")).toBe(false);
      for (const line of m.text.split("\n")) expect(line.length).toBeLessThan(260);
    }
    expect(fmt("status", { status: "ready", from: "blocked" }).text).toContain("moved to ready");
    // Completion gates (issue 20): what failed, and which gates a hand-in runs.
    expect(fmt("gate_failed", { failed: ["tests", "lint"] }).text).toContain("failed: tests, lint");
    expect(fmt("verification_started", { gates: ["command:tests", "approval"] }).text).toContain(
      "gates: command:tests, approval",
    );
    expect(fmt("timed_out", { max_runtime_seconds: 900 }).text).toContain("timed out (max_runtime 900s)");
    expect(fmt("gave_up", { error: "binary not found" }).text).toContain("Why: binary not found");
    expect(fmt("archived").text).toContain("last message");
  });

  it("incident and revive events read from the payloads the kernel writes", () => {
    const opened = fmt("incident_opened", {
      incident_id: 3,
      scope: "profile",
      scope_key: "coder",
      failure_class: "transient",
      failures: 6,
    });
    expect(opened.text).toContain("Why: 6 runs of profile coder failed the same way (transient)");
    expect(opened.needs_you).toBe(true);
    expect(fmt("incident_closed", { incident_id: 3, closed_by: "probe" }).text).toContain("Why: closed by probe");
    const revived = fmt("auto_revived", { attempt: 1, max: 3, cooldown_seconds: 600, trigger_outcome: "timed_out" });
    expect(revived.headline).toContain("revived automatically (revive 1 of 3)");
    expect(revived.text).toContain("after timed out");
    expect(fmt("auto_revive_exhausted", { reason: "revived 3 time(s)" }).text).toContain("kanban unblock t_1a2b");
  });

  it("an unknown kind still reads as words", () => {
    expect(fmt("something_new").headline).toContain("something new");
  });

  it("a task without an assignee has no @", () => {
    const m = formatEvent({
      board: "b",
      task: { ...task, assignee: null },
      event: { id: 1, kind: "unblocked", created_at: at, payload: null },
      publicUrl: null,
    });
    expect(m.headline).toBe("▶ [b] t_1a2b unblocked — Migrate the billing DB");
  });
});
