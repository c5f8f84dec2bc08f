import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterEach, describe, expect, it } from "vitest";
import { cli, cliJson, createdId, KANBAN_BIN, type TempHome, tempHome } from "./testing/harness.ts";

/**
 * `kanban_why` over a real `kanban mcp` process (stdio, the SDK's client): the same motion as
 * `kanban why --json` for the same task, for an orchestrator naming any task and for a worker
 * asking about its own.
 */
let h: TempHome | null = null;
let mcp: Client | null = null;

afterEach(async () => {
  await mcp?.close();
  mcp = null;
  h?.cleanup();
  h = null;
});

async function connect(env: Record<string, string>): Promise<Client> {
  const client = new Client({ name: "kanban-why-test", version: "1.0.0" });
  await client.connect(
    new StdioClientTransport({ command: process.execPath, args: [KANBAN_BIN, "mcp"], env, stderr: "pipe" }),
  );
  return client;
}

async function why(client: Client, args: Record<string, unknown>) {
  const res = await client.callTool({ name: "kanban_why", arguments: args });
  const content = res.content as { type: string; text: string }[];
  return { isError: res.isError === true, body: JSON.parse(content[0]?.text ?? "null") as Record<string, unknown> };
}

function withoutAges(body: Record<string, unknown>): Record<string, unknown> {
  return typeof body.line === "string" ? { ...body, line: body.line.replace(/\b\d+[smhd]\b/g, "<age>") } : body;
}

describe("kanban_why (MCP)", () => {
  it("answers what kanban why answers: blocked with its reason, a ghost assignee, an unknown id", async () => {
    h = tempHome({ profiles: { coder: { command: ["true"] } } });
    const env = h.env;
    const blocked = createdId((await cli(["create", "needs a key", "--assignee", "coder"], env)).out);
    expect((await cli(["block", blocked, "need the staging API key"], env)).code).toBe(0);
    const ghost = createdId((await cli(["create", "ghostly", "--assignee", "ghost"], env)).out);
    mcp = await connect({ ...env, KANBAN_PROFILE: "lead" });

    for (const id of [blocked, ghost]) {
      const viaMcp = await why(mcp, { task_id: id });
      expect(viaMcp.isError).toBe(false);
      const viaCli = await cliJson<Record<string, unknown>>(["why", id], env);
      // The two answers are read a moment apart, so an age in the line ("since 3s ago") may differ by a
      // tick on a loaded machine; everything else must be identical.
      expect(withoutAges(viaMcp.body)).toEqual(withoutAges({ task_id: id, ...viaCli }));
    }
    expect((await why(mcp, { task_id: blocked })).body).toMatchObject({
      code: "blocked",
      line: expect.stringMatching(/^Blocked, since \d+s ago: need the staging API key$/),
    });
    expect((await why(mcp, { task_id: ghost })).body.code).toBe("not_runnable_profile");
    expect(await why(mcp, { task_id: "t_0123456789" })).toEqual({
      isError: true,
      body: { error: "task t_0123456789 not found" },
    });
    expect((await why(mcp, {})).isError).toBe(true);
  });
});
