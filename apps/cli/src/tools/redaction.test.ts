import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { KanbanClient } from "../client.ts";
import type { ToolIdentity } from "./client.ts";
import { callTool, openToolApi, type ToolApi } from "./tool-testing.ts";

/**
 * The tools cut credentials out of what an agent writes into the board (Hermes' tools do the same):
 * a worker that pastes its environment into a comment, a handoff, a block reason or metadata leaves
 * `[redacted]` where its run token and provider key were, in process and over HTTP.
 */
let api: KanbanClient;
const RUN_TOKEN = "kbr1.eyJiIjoiZGVmYXVsdCJ9.c2lnbmF0dXJlLW9mLXRoZS1ydW4";
const PROVIDER_KEY = "sk-ant-api03-0123456789abcdefghij";

function identity(task: string, runId: number): ToolIdentity {
  return { task, runId, claimLock: null, profile: "coder", tenant: null, sessionId: null };
}

describe.each(["local", "remote"] as const)("secret redaction in tool arguments (%s API)", (mode) => {
  let t: ToolApi;
  beforeEach(async () => {
    t = await openToolApi(mode);
    api = t.api;
  });
  afterEach(async () => await t.close());

  it("comment, heartbeat note, block reason, handoff and metadata are stored without the credentials", async () => {
    const { task } = await api.tasks.create.mutate({ title: "leaky", assignee: "coder" });
    const claim = await api.tasks.claim.mutate({ id: task.id });
    const me = identity(task.id, claim.run_id as number);
    const env = `KANBAN_TOKEN=${RUN_TOKEN}\nANTHROPIC_API_KEY=${PROVIDER_KEY}\nHOME=/home/worker`;

    expect((await callTool(api, "kanban_comment", { task_id: task.id, body: `my env:\n${env}` }, me)).isError).toBe(
      false,
    );
    expect((await callTool(api, "kanban_heartbeat", { note: `still going with ${PROVIDER_KEY}` }, me)).isError).toBe(
      false,
    );
    const done = await callTool(
      api,
      "kanban_complete",
      {
        summary: `done; used ${PROVIDER_KEY}`,
        result: `Authorization: Bearer ${RUN_TOKEN}`,
        metadata: { env: { KANBAN_TOKEN: RUN_TOKEN }, notes: [`key ${PROVIDER_KEY}`], files: 2 },
      },
      me,
    );
    expect(done.isError).toBe(false);

    const detail = await api.tasks.get.query({ id: task.id });
    const stored = JSON.stringify(detail);
    expect(stored).not.toContain(RUN_TOKEN);
    expect(stored).not.toContain(PROVIDER_KEY);
    expect(detail.comments.map((c) => c.body)).toEqual([
      "my env:\nKANBAN_TOKEN=[redacted]\nANTHROPIC_API_KEY=[redacted]\nHOME=/home/worker",
    ]);
    expect(detail.task.result).toBe("Authorization: Bearer [redacted]");
    const run = detail.runs.find((r) => r.id === claim.run_id);
    expect(run?.summary).toBe("done; used [redacted]");
    expect(run?.metadata).toEqual({ env: { KANBAN_TOKEN: "[redacted]" }, notes: ["key [redacted]"], files: 2 });
    // The heartbeat's note is on its event, with the card's other events in the detail.
    expect(detail.events.some((e) => JSON.stringify(e.payload).includes("still going with [redacted]"))).toBe(true);
  });

  it("a block reason is stored without the credentials", async () => {
    const { task } = await api.tasks.create.mutate({ title: "stuck", assignee: "coder" });
    const claim = await api.tasks.claim.mutate({ id: task.id });
    const me = identity(task.id, claim.run_id as number);
    const blocked = await callTool(
      api,
      "kanban_block",
      { reason: `the deploy fails with postgres://app:${PROVIDER_KEY}@db/app; which database?` },
      me,
    );
    expect(blocked.isError).toBe(false);
    const detail = await api.tasks.get.query({ id: task.id });
    expect(JSON.stringify(detail)).not.toContain(PROVIDER_KEY);
    expect(JSON.stringify(detail)).toContain("postgres://app:[redacted]@db/app; which database?");
  });
});
