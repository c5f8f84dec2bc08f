import { type RunningServer, silentLogger, startServer } from "@kanban/api";
import { createKanbanClient } from "@kanban/api/client";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { apiClient, cli, cliJson, createdId, type TempHome, tempHome } from "./testing/harness.ts";
import type { ToolIdentity } from "./tools/client.ts";
import { KANBAN_TOOLS, runKanbanTool } from "./tools/index.ts";

/**
 * The remote-host verbs of the CLI: `create --requires`, `edit --requires`, `hosts`, `cancel`, in
 * local mode (the in-process API) and remote mode (a real `kanban serve` on 127.0.0.1). A host is
 * made the way a remote dispatcher makes itself known: `hosts.hello` over HTTP with a host token.
 */
const HOST_TOKEN = "host-token-for-cli-tests-0123";
const HOST_ID = "kh-00000000000000c1";

let h: TempHome;
let server: RunningServer;

beforeEach(async () => {
  h = tempHome({ host_tokens: { [HOST_TOKEN]: { name: "mac-1" } } });
  // The host reaches the board through a server in both modes; remote mode also runs the CLI through it.
  server = await startServer({ host: "127.0.0.1", port: 0, location: { home: h.home }, logger: silentLogger });
});

afterEach(async () => {
  await server.close();
  h.cleanup();
});

async function hello(labels: string[]) {
  const host = createKanbanClient({ url: `${server.url}/trpc`, token: HOST_TOKEN });
  return await host.hosts.hello.mutate({ host_id: HOST_ID, labels, version: "0.1.0", capacity: 3, runs: [] });
}

describe.each(["local", "remote"] as const)("%s mode", (mode) => {
  const env = () => (mode === "remote" ? { ...h.env, KANBAN_URL: server.url } : h.env);

  it("create --requires sets the labels a host needs (comma lists add up); edit --requires replaces or clears them", async () => {
    const r = await cli(
      ["create", "Build the iOS app", "--assignee", "ios", "--requires", "macos, Xcode", "--requires", "macos"],
      env(),
    );
    expect(r.code, r.err).toBe(0);
    const id = createdId(r.out);
    expect(r.out).toContain("requires=macos,xcode");
    const api = await apiClient(env());
    expect((await api.tasks.get.query({ id })).task.requires).toEqual(["macos", "xcode"]);

    const edited = await cli(["edit", id, "--requires", "gpu", "--title", "Train it"], env());
    expect(edited.code, edited.err).toBe(0);
    expect(edited.out).toBe(`Edited ${id}  (requires=gpu)`);
    expect((await api.tasks.get.query({ id })).task).toMatchObject({ requires: ["gpu"], title: "Train it" });
    expect((await cli(["edit", id, "--requires", ""], env())).out).toBe(`Edited ${id}  (requires=none)`);
    expect((await api.tasks.get.query({ id })).task.requires).toEqual([]);

    // A label the board refuses is one line, exit 1, and nothing changes.
    const bad = await cli(["edit", id, "--requires", "has space", "--title", "never"], env());
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/^kanban: .*label/);
    expect(bad.err).not.toMatch(/\n\s+at /);
    expect((await api.tasks.get.query({ id })).task.title).toBe("Train it");
    // Other edits still work as before without --requires.
    expect((await cli(["edit", id, "--priority", "3"], env())).out).toBe(`Edited ${id}`);
  });

  it("hosts lists the board's remote hosts as a table, or JSON", async () => {
    const empty = await cli(["hosts"], env());
    expect(empty.code).toBe(0);
    expect(empty.out).toContain("no remote hosts");
    await hello(["macos", "xcode"]);
    const table = await cli(["hosts"], env());
    expect(table.code, table.err).toBe(0);
    const [header, row] = table.out.split("\n");
    expect(header).toMatch(/^HOST\s+NAME\s+STATE\s+LABELS\s+RUNNING\s+VERSION\s+TENANT\s+LAST SEEN$/);
    expect(row).toMatch(new RegExp(`^${HOST_ID}\\s+mac-1\\s+connected\\s+macos,xcode\\s+0/3\\s+0\\.1\\.0\\s+-\\s+`));
    const json = await cliJson<{ hosts: Record<string, unknown>[] }>(["hosts"], env());
    expect(json.hosts).toMatchObject([
      { id: HOST_ID, name: "mac-1", labels: ["macos", "xcode"], connected: true, capacity: 3, running: 0 },
    ]);
    expect(JSON.stringify(json)).not.toContain(HOST_TOKEN);
  });

  it("cancel blocks a running task with its reason and unblock puts it back", async () => {
    const id = createdId((await cli(["create", "hangs", "--assignee", "coder"], env())).out);
    const api = await apiClient(env());
    await api.tasks.claim.mutate({ id });
    const r = await cli(["cancel", id, "--reason", "hung on a modal dialog"], env());
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe(`Cancelled ${id}  (blocked: hung on a modal dialog)`);
    const shown = await api.tasks.get.query({ id });
    expect(shown.task.status).toBe("blocked");
    expect(JSON.stringify(shown.events)).toContain("cancelled: hung on a modal dialog");
    expect(shown.runs.at(-1)?.outcome).toBe("reclaimed");
    const unknown = await cli(["cancel", "t_nope"], env());
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/^kanban: /);
    expect((await cli(["unblock", id], env())).code).toBe(0);
    expect((await api.tasks.get.query({ id })).task.status).toBe("ready");
  });
  it("MCP: kanban_create takes requires; kanban_cancel cancels for an orchestrator and is refused to a worker", async () => {
    const api = await apiClient(env());
    const lead: ToolIdentity = {
      task: null,
      runId: null,
      claimLock: null,
      profile: "lead",
      tenant: null,
      sessionId: null,
    };
    const tool = (name: string) => {
      const t = KANBAN_TOOLS.find((x) => x.name === name);
      if (!t) throw new Error(`no tool ${name}`);
      return t;
    };
    const run = async (name: string, args: Record<string, unknown>, identity = lead) => {
      const out = await runKanbanTool(tool(name), args, { client: api, identity });
      return { isError: out.isError, body: JSON.parse(out.text) as Record<string, unknown> };
    };
    const created = await run("kanban_create", { title: "ios build", assignee: "ios", requires: ["macos", " xcode"] });
    expect(created.isError).toBe(false);
    const id = String(created.body.task_id);
    expect((await api.tasks.get.query({ id })).task.requires).toEqual(["macos", "xcode"]);
    const asString = await run("kanban_create", { title: "x", assignee: "ios", requires: "macos" });
    expect(asString.isError).toBe(true);
    expect(String(asString.body.error)).toContain("requires must be an array of strings");

    const claimed = await api.tasks.claim.mutate({ id });
    const me: ToolIdentity = { ...lead, task: id, runId: claimed.run_id, profile: "ios" };
    const refused = await run("kanban_cancel", { task_id: id, reason: "mine" }, me);
    expect(refused.isError).toBe(true);
    expect(String(refused.body.error)).toMatch(/^kanban_cancel is orchestrator-only/);
    const cancelled = await run("kanban_cancel", { task_id: id, reason: "wrong machine" });
    expect(cancelled.body).toEqual({ ok: true, task_id: id, status: "blocked" });
    expect(JSON.stringify((await api.tasks.get.query({ id })).events)).toContain("cancelled: wrong machine");
    expect((await run("kanban_cancel", { task_id: "t_nope" })).body).toEqual({ error: "task t_nope not found" });
  });
});
