import { spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { makeHome, type TempHome, waitFor } from "./support/env.ts";
import { isPidAlive, ProcessTracker } from "./support/processes.ts";
import { stablePort } from "@kanban/db/testing";

/**
 * `npm start -- --demo` from the repository: the board, the API and the dispatcher come up
 * together on the embedded SQLite default, the demo worker moves cards to done, and Ctrl-C (SIGINT)
 * stops all three.
 */
const ROOT = new URL("../../../", import.meta.url);
const procs = new ProcessTracker();
let home: TempHome | undefined;

afterAll(async () => {
  await procs.killAll();
  home?.cleanup();
});

/** The start script builds the runtime when its sources changed (scripts/build-runtime.mjs); do it first so a test times start-up, not a build. */
function ensureBuild(): void {
  const r = spawnSync(process.execPath, [fileURLToPath(new URL("scripts/build-runtime.mjs", ROOT))], {
    cwd: fileURLToPath(ROOT),
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
    encoding: "utf8",
  });
  expect(r.status, r.stderr.slice(-2000)).toBe(0);
}

async function status(url: string): Promise<number | null> {
  try {
    return (await fetch(url)).status;
  } catch {
    return null;
  }
}

describe("npm start", () => {
  it("brings up board, API and dispatcher; the demo worker completes cards; SIGINT stops everything", async () => {
    ensureBuild();
    home = makeHome("npm-start");
    const [webPort, apiPort] = [await stablePort(), await stablePort()];
    const env = { ...home.env, KANBAN_WEB_PORT: String(webPort), KANBAN_API_PORT: String(apiPort) };
    const start = procs.startNode([fileURLToPath(new URL("scripts/start.mjs", ROOT)), "--demo"], {
      env,
      cwd: fileURLToPath(ROOT),
    });

    // "Kanban is running" comes only once every part answers.
    await waitFor(() => start.stdout().includes("Kanban is running:"), "npm start to say it is running", 120_000, 250);
    expect(await status(`http://127.0.0.1:${webPort}/`)).toBe(200);
    expect(await status(`http://127.0.0.1:${apiPort}/healthz`)).toBe(200);
    expect(start.stdout()).toContain(`http://127.0.0.1:${webPort}`);

    // The board's own API (mounted in Next) serves the demo board, and the dispatcher works it.
    const boardUrl = `http://127.0.0.1:${webPort}/api/trpc/board.get?input=${encodeURIComponent(JSON.stringify({ board: "demo" }))}`;
    const doneCount = async () => {
      const res = await fetch(boardUrl);
      const body = (await res.json()) as { result?: { data?: { columns: { name: string; total: number }[] } } };
      return body.result?.data?.columns.find((c) => c.name === "done")?.total ?? 0;
    };
    await waitFor(async () => (await doneCount()) >= 1, "a demo card to be completed by the demo worker", 60_000, 500);
    const status1 = JSON.parse(fs.readFileSync(`${home.home}/kanban/dispatcher.json`, "utf8")) as { pid: number };
    expect(isPidAlive(status1.pid)).toBe(true);

    start.child.kill("SIGINT");
    const exited = await start.exited;
    expect(exited.code).toBe(0);
    await waitFor(() => !isPidAlive(status1.pid), "the dispatcher to stop", 15_000);
    expect(await status(`http://127.0.0.1:${webPort}/`)).toBeNull();
    expect(await status(`http://127.0.0.1:${apiPort}/healthz`)).toBeNull();
  }, 240_000);
});

describe("npm start supervision", () => {
  let own: TempHome | undefined;
  afterEach(async () => {
    await procs.killAll();
    own?.cleanup();
    own = undefined;
  });

  it("refuses a busy port in one line naming the port and the variable that changes it", async () => {
    own = makeHome("npm-start-busy");
    const holder = net.createServer();
    await new Promise<void>((r) => holder.listen(0, "127.0.0.1", () => r()));
    const addr = holder.address();
    const busy = typeof addr === "object" && addr ? addr.port : 0;
    try {
      const env = { ...own.env, KANBAN_WEB_PORT: String(busy), KANBAN_API_PORT: String(await stablePort()) };
      const start = procs.startNode([fileURLToPath(new URL("scripts/start.mjs", ROOT))], {
        env,
        cwd: fileURLToPath(ROOT),
      });
      const exited = await start.exited;
      expect(exited.code).toBe(1);
      expect(start.stdout()).not.toContain("Kanban is running");
      const lines = start.stderr().trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(`port ${busy} (the board) is already in use`);
      expect(lines[0]).toContain("KANBAN_WEB_PORT=");
      expect(start.stderr()).not.toContain("EADDRINUSE");
    } finally {
      holder.close();
    }
  }, 60_000);

  it("reports an invalid config.json in one line and on the board, starts the dispatcher once it is fixed, and restarts an API killed with SIGKILL", async () => {
    ensureBuild();
    own = makeHome("npm-start-supervise");
    fs.writeFileSync(`${own.home}/config.json`, JSON.stringify({ kanban: { failure_limt: 3 } }));
    const [webPort, apiPort] = [await stablePort(), await stablePort()];
    const env = { ...own.env, KANBAN_WEB_PORT: String(webPort), KANBAN_API_PORT: String(apiPort) };
    const start = procs.startNode([fileURLToPath(new URL("scripts/start.mjs", ROOT))], {
      env,
      cwd: fileURLToPath(ROOT),
    });
    // The dispatcher will not start on a config it never saw valid: npm start says so instead of
    // claiming to run, and instead of restarting it over and over.
    await waitFor(
      () => start.stdout().includes("Kanban is only partly running:"),
      "npm start to say what runs",
      120_000,
      250,
    );
    expect(start.stdout()).toMatch(/dispatcher {2}DOWN: waiting for a valid config\.json/);
    expect(start.stdout()).not.toContain("Kanban is running:");
    expect(start.stderr()).toContain(
      "the dispatcher cannot run while config.json is invalid; it starts by itself once the file is fixed",
    );

    // One line for the config error, no stack trace anywhere.
    const configLines = start
      .stderr()
      .split("\n")
      .filter((l) => l.includes("failure_limt"));
    expect(configLines.length).toBeGreaterThanOrEqual(1);
    expect(configLines[0]).toMatch(/^kanban: invalid config\.json: .*failure_limt.*failure_limit/);
    expect(start.stderr()).not.toMatch(/^\s+at /m);
    // The board's API says the same, for the banner.
    const cfg = (await (await fetch(`http://127.0.0.1:${webPort}/api/trpc/config.get`)).json()) as {
      result: { data: { config_error: string | null } };
    };
    expect(cfg.result.data.config_error).toContain("failure_limt");

    // Fixed: the dispatcher starts by itself, and only now is Kanban running.
    fs.writeFileSync(`${own.home}/config.json`, JSON.stringify({ kanban: { failure_limit: 3 } }));
    await waitFor(() => start.stdout().includes("Kanban is running:"), "npm start to say it is running", 60_000, 250);
    expect(start.stdout()).toMatch(/the dispatcher is back \(pid \d+\)/);

    const apiPid = Number(/API \(CLI\).*\(pid (\d+)/.exec(start.stdout())?.[1]);
    expect(isPidAlive(apiPid)).toBe(true);
    procs.adoptPid(apiPid);
    process.kill(apiPid, "SIGKILL");
    await waitFor(
      () => /the API stopped \(SIGKILL/.test(start.stderr()),
      "npm start to report the API's death",
      15_000,
      100,
    );
    const back = await waitFor(
      () => /the API is back \(pid (\d+)\)/.exec(start.stdout()),
      "npm start to bring the API back",
      60_000,
      250,
    );
    const newPid = Number(back[1]);
    expect(newPid).not.toBe(apiPid);
    procs.adoptPid(newPid);
    expect(await status(`http://127.0.0.1:${apiPort}/healthz`)).toBe(200);

    start.child.kill("SIGINT");
    expect((await start.exited).code).toBe(0);
    expect(await status(`http://127.0.0.1:${apiPort}/healthz`)).toBeNull();
  }, 240_000);
});
