import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { makeHome, type TempHome } from "./support/env.ts";
import { ProcessTracker } from "./support/processes.ts";
import { stablePort } from "@kanban/db/testing";

/**
 * `npm start` on PostgreSQL that it cannot use: a database URL it cannot open is one line, and no
 * part (board, API, dispatcher) starts at all. (The parts on a working server are shown by
 * apps/cli/src/serve-pg.test.ts and the dispatcher's pg-process test.)
 */
const ROOT = new URL("../../../", import.meta.url);
const procs = new ProcessTracker();
const homes: TempHome[] = [];

afterAll(async () => {
  await procs.killAll();
  for (const h of homes) h.cleanup();
});

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

const SECRET = "npm-start-secret-pw";

describe("npm start on a PostgreSQL it cannot use", () => {
  async function start(config: Record<string, unknown>, env: Record<string, string>) {
    const h = makeHome("npm-start-pg", config);
    homes.push(h);
    const [webPort, apiPort] = [await stablePort(), await stablePort()];
    const run = procs.startNode([fileURLToPath(new URL("scripts/start.mjs", ROOT))], {
      env: { ...h.env, KANBAN_WEB_PORT: String(webPort), KANBAN_API_PORT: String(apiPort), ...env },
      cwd: fileURLToPath(ROOT),
    });
    const exited = await run.exited;
    expect(exited.code).toBe(1);
    const lines = run.stderr().trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(run.stderr()).not.toMatch(/^\s+at /m);
    expect(run.stdout()).not.toContain("Kanban is running");
    expect(run.stdout() + run.stderr()).not.toContain(SECRET);
    expect(await listening(webPort)).toBe(false);
    expect(await listening(apiPort)).toBe(false);
    // Nothing was made on SQLite instead.
    expect(fs.existsSync(path.join(h.home, "kanban.db"))).toBe(false);
    return lines[0] as string;
  }

  it("an unreachable server (KANBAN_DATABASE_URL at a closed port): one line naming host:port/db, nothing starts", async () => {
    const closed = await stablePort();
    const line = await start({}, { KANBAN_DATABASE_URL: `postgres://kanban:${SECRET}@127.0.0.1:${closed}/boards` });
    expect(line).toBe(
      `kanban: cannot open the board database: cannot reach PostgreSQL at 127.0.0.1:${closed}/boards: connection refused`,
    );
  }, 120_000);

  it("a malformed URL in config.json's database: one line, nothing starts", async () => {
    const line = await start({ database: `postgres://kanban:${SECRET}@127.0.0.1:99999/boards` }, {});
    expect(line).toMatch(
      /^kanban: cannot open the board database: invalid PostgreSQL URL: not a URL; expected postgres:\/\/user:password@host:5432\/database$/,
    );
  }, 120_000);
});
