import type { RouterOutputs } from "@kanban/api";
import { describe, expect, it } from "vitest";
import { incidentSentence } from "./incident-banner.tsx";

type Incident = RouterOutputs["incidents"]["list"]["incidents"][number];

/** 14:02 and 14:05 on the test's own clock (the banner prints the viewer's local time). */
const OPENED = Math.floor(new Date(2026, 11, 4, 14, 2, 30).getTime() / 1000);
const PROBE = Math.floor(new Date(2026, 11, 4, 14, 5, 0).getTime() / 1000);

function incident(over: Partial<Incident>): Incident {
  return {
    id: 7,
    scope: "profile",
    scope_key: "coder",
    failure_class: "transient",
    tenant: null,
    opened_at: OPENED,
    closed_at: null,
    closed_by: null,
    failures: 4,
    task_ids: ["t_1", "t_2", "t_3", "t_4"],
    last_error: "HTTP 503",
    probes: 0,
    next_probe_at: PROBE,
    probe_task_id: null,
    probe_run_id: null,
    open: true,
    ...over,
  };
}

describe("incidentSentence", () => {
  it("says what is paused, why, since when and when the next probe goes", () => {
    expect(incidentSentence(incident({}))).toBe(
      "Paused: 4 runs of coder failed (transient) since 14:02 — next probe 14:05",
    );
  });

  it("names a host's incident, one run, and a probe that is running", () => {
    expect(
      incidentSentence(
        incident({
          scope: "host",
          scope_key: "kh-00000000000000a1",
          failures: 1,
          failure_class: "crashed",
          probe_run_id: 9,
        }),
      ),
    ).toBe("Paused: 1 run on host kh-00000000000000a1 failed (crashed) since 14:02 — a probe is running");
  });
});
