import { spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { makeHome, type TempHome, waitFor } from "./support/env.ts";
import { isPidAlive, ProcessTracker } from "./support/processes.ts";

/**
 * `npm start -- --demo` from the repository: the board, the API and the dispatcher come up
 * together on the embedded SQLite default, the demo worker moves cards to done, and Ctrl-C (SIGINT)
 * stops all three.
 */
const ROOT = new URL("../../../", import.meta.url);
const WEB_DIR = new URL("apps/web/", ROOT);
const procs = new ProcessTracker();
let home: TempHome | undefined;

afterAll(async () => {
  await procs.killAll();
  home?.cleanup();
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
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
    // The start script builds the web app when there is no build; do it here first so the timing below
    // measures start-up, not a build.
    if (!fs.existsSync(new URL(".next/BUILD_ID", WEB_DIR))) {
      const nextBin = createRequire(new URL("package.json", WEB_DIR)).resolve("next/dist/bin/next");
      const r = spawnSync(process.execPath, [nextBin, "build"], { cwd: fileURLToPath(WEB_DIR), env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" }, encoding: "utf8" });
      expect(r.status, r.stderr.slice(-2000)).toBe(0);
    }
    home = makeHome("npm-start");
    const [webPort, apiPort] = [await freePort(), await freePort()];
    const env = { ...home.env, KANBAN_WEB_PORT: String(webPort), KANBAN_API_PORT: String(apiPort) };
    const start = procs.startNode([fileURLToPath(new URL("scripts/start.mjs", ROOT)), "--demo"], { env, cwd: fileURLToPath(ROOT) });

    await waitFor(async () => (await status(`http://127.0.0.1:${webPort}/`)) === 200, "the board to answer", 90_000, 250);
    await waitFor(async () => (await status(`http://127.0.0.1:${apiPort}/healthz`)) === 200, "the API to answer", 30_000, 250);
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
