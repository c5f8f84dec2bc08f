import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { chromium } from "playwright-core";
import { CHROMIUM, CHROMIUM_ARGS, REPO_ROOT, WEB_DIR } from "./env.ts";
// Only the port helper: @kanban/db/testing would load the whole db package, which the web tests
// reach only built.
import { stablePort } from "@kanban/db/testing-ports";
import { webBuildIsStale } from "../../../scripts/web-build.mjs";

const require = createRequire(import.meta.url);
const NEXT_BIN = require.resolve("next/dist/bin/next");

async function waitForHttp(url: string, child: ChildProcess, logFile: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const log = fs.existsSync(logFile) ? fs.readFileSync(logFile, "utf8").slice(-4000) : "";
  throw new Error(`next start did not answer ${url} within ${timeoutMs} ms (exit code ${child.exitCode}).\n${log}`);
}

/** Starts `next start` for a KANBAN_HOME; the caller stops it with `stopServer`. */
export async function startServer(
  home: string,
  port?: number,
  extraEnv: Record<string, string> = {},
): Promise<{ child: ChildProcess; url: string; port: number }> {
  const p = port ?? (await stablePort());
  const logFile = path.join(home, `next-${p}.log`);
  const out = fs.openSync(logFile, "a");
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KANBAN_HOME: home,
    NEXT_TELEMETRY_DISABLED: "1",
    NODE_ENV: "production",
  };
  // The board comes from the temporary home only, never from the developer's environment.
  for (const k of ["KANBAN_DB", "KANBAN_BOARD", "KANBAN_TOKEN", "KANBAN_WORKSPACES_ROOT"]) delete env[k];
  Object.assign(env, extraEnv);
  const child = spawn(process.execPath, [NEXT_BIN, "start", "-p", String(p), "-H", "127.0.0.1"], {
    cwd: WEB_DIR,
    env,
    stdio: ["ignore", out, out],
    detached: true,
  });
  fs.closeSync(out);
  const url = `http://127.0.0.1:${p}`;
  await waitForHttp(`${url}/`, child, logFile, 30_000);
  return { child, url, port: p };
}

/**
 * Stops a server started here, by its process group: SIGTERM, then SIGKILL after 5 s (an open
 * event stream keeps Next's graceful shutdown waiting). `crash` kills at once, like a power cut.
 */
export async function stopServer(child: ChildProcess, opts: { crash?: boolean } = {}): Promise<void> {
  const pid = child.pid;
  if (pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  try {
    process.kill(-pid, opts.crash ? "SIGKILL" : "SIGTERM");
  } catch {
    return;
  }
  const timer = setTimeout(() => {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // already gone
    }
  }, 5000);
  await exited;
  clearTimeout(timer);
}

export default async function setup(project: TestProject) {
  if (!fs.existsSync(CHROMIUM)) {
    const line = `e2e: ${CHROMIUM} is missing; the browser tests need Debian's chromium: run \`apt-get install -y chromium\` (as root), then npm test again`;
    const err = new Error(line);
    err.stack = line; // one line, no trace: there is nothing to debug, only something to install
    throw err;
  }
  if (webBuildIsStale(REPO_ROOT)) {
    const t0 = Date.now();
    process.stderr.write("e2e: building the web board (next build)…\n");
    const r = spawnSync(process.execPath, [NEXT_BIN, "build"], {
      cwd: WEB_DIR,
      env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
      encoding: "utf8",
    });
    if (r.status !== 0) throw new Error(`next build failed:\n${r.stdout}\n${r.stderr}`);
    process.stderr.write(`e2e: built in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  }
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "kanban-e2e-"));
  fs.writeFileSync(
    path.join(home, "config.json"),
    JSON.stringify({
      profiles: {
        coder: { command: ["node", "-e", "0"], skills: ["typescript"], model: "model-a" },
        writer: { command: ["node", "-e", "0"], model: "model-b" },
      },
    }),
  );
  // One chromium for the run; each test file works in a fresh context of it (its own cookies,
  // storage and pages). A chromium start per file cost ~0.8 CPU-s, ~20 CPU-s over the suite. Started
  // before the server, so that a browser that cannot start leaves no detached server behind.
  const browser = await chromium.launchServer({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  const server = await startServer(home).catch(async (err: unknown) => {
    await browser.close();
    throw err;
  });
  project.provide("baseUrl", server.url);
  project.provide("kanbanHome", home);
  project.provide("browserWs", browser.wsEndpoint());
  return async () => {
    await browser.close();
    await stopServer(server.child);
    fs.rmSync(home, { recursive: true, force: true });
  };
}
