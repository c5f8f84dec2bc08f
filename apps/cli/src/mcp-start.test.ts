import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiClient, KANBAN_BIN, type TempHome, tempHome } from "./testing/harness.ts";

/**
 * `kanban mcp` answers before it opens the API (start-up speed), so these pin what must not change
 * with that: a client that pipes its requests and closes stdin at once still gets every answer,
 * and a board that cannot be opened still stops the server with one line and exit code 1.
 */
let h: TempHome;

beforeAll(() => {
  h = tempHome();
});
afterAll(() => h.cleanup());

function runMcp(env: Record<string, string | undefined>, lines: unknown[]) {
  const child = spawn(process.execPath, [KANBAN_BIN, "mcp"], { env, stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  child.stdin.end(lines.map((l) => `${JSON.stringify(l)}\n`).join(""));
  return new Promise<{ code: number | null; answers: { id?: number; result?: unknown }[]; err: string }>((resolve) =>
    child.on("close", (code) =>
      resolve({
        code,
        err,
        answers: out
          .split("\n")
          .filter((l) => l !== "")
          .map((l) => JSON.parse(l)),
      }),
    ),
  );
}

const initialize = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "test", version: "0" } },
};
const initialized = { jsonrpc: "2.0", method: "notifications/initialized" };

describe("kanban mcp start-up", () => {
  it("answers initialize, tools/list and a tool call piped at once before stdin closed", async () => {
    const api = await apiClient(h.env);
    const { task } = await api.tasks.create.mutate({ title: "piped" });
    const r = await runMcp({ ...h.env, KANBAN_PROFILE: "lead" }, [
      initialize,
      initialized,
      { jsonrpc: "2.0", id: 2, method: "tools/list" },
      { jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "kanban_show", arguments: { task_id: task.id } } },
    ]);
    expect(r.code, r.err).toBe(0);
    expect(r.answers.map((a) => a.id)).toEqual([1, 2, 3]);
    const call = r.answers[2]?.result as { isError: boolean; content: { text: string }[] };
    expect(call.isError).toBe(false);
    expect(JSON.parse(call.content[0]?.text ?? "{}").task).toMatchObject({ id: task.id, title: "piped" });
  });

  it("a config that refuses the database stops the server with one line and exit code 1", async () => {
    fs.writeFileSync(path.join(h.env.KANBAN_HOME as string, "config.json"), JSON.stringify({ database: 5 }));
    try {
      const r = await runMcp(h.env, [initialize, initialized]);
      expect(r.code).toBe(1);
      expect(r.err.trim().split("\n")).toEqual([expect.stringMatching(/^kanban: invalid config\.json: database: /)]);
    } finally {
      fs.rmSync(path.join(h.env.KANBAN_HOME as string, "config.json"));
    }
  });
});
