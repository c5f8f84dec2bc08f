import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { runBinary, startBinary, type TempHome, tempHome } from "./testing/harness.ts";

/**
 * `kanban dispatcher` takes the remote host flags of `kanban-dispatcher` (--server, --token,
 * --labels, --max-workers) and passes them on: the real binary reaches the remote host mode.
 */
const TOKEN = "host-token-never-printed-0123";
const homes: TempHome[] = [];
afterEach(() => {
  for (const h of homes.splice(0)) h.cleanup();
});

function home(): TempHome {
  const h = tempHome();
  homes.push(h);
  return h;
}

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** Waits for `re` in a started binary's stderr (where the dispatcher logs). */
async function waitForErr(proc: ReturnType<typeof startBinary>, re: RegExp, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!re.test(proc.stderr())) {
    if (Date.now() > deadline || proc.child.exitCode !== null)
      throw new Error(`no ${re} in stderr (exit ${proc.child.exitCode}): ${proc.stderr()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("kanban dispatcher --server", { timeout: 60_000 }, () => {
  it("runs as a remote host with the flags passed on; a closed port is one retry line; SIGTERM stops it", async () => {
    const h = home();
    const server = `http://127.0.0.1:${await closedPort()}`;
    const proc = startBinary(
      ["dispatcher", "--server", server, "--token", TOKEN, "--labels", "GPU,macos", "--max-workers", "3"],
      h.env,
    );
    try {
      await waitForErr(proc, /disconnected from /);
      const err = proc.stderr();
      expect(err).toMatch(
        new RegExp(
          `kanban-dispatcher: remote host kh-[0-9a-f]{16} for ${server} \\(labels: gpu, macos; up to 3 workers;`,
        ),
      );
      expect(err).toMatch(new RegExp(`kanban-dispatcher: disconnected from ${server}: .*; retrying with backoff`));
      expect(err.split("\n").filter((l) => l.includes("disconnected from"))).toHaveLength(1);
      expect(err).not.toContain("unknown option");
      proc.child.kill("SIGTERM");
      expect(await proc.exited).toEqual({ code: 0, signal: null });
      expect(proc.stderr()).toContain("kanban-dispatcher: stopped (its workers keep running");
      expect(proc.stderr() + proc.stdout()).not.toContain(TOKEN);
      expect(proc.stderr()).not.toMatch(/\n\s+at /);
    } finally {
      proc.kill();
    }
  });

  it("refusals: host flags without --server and a bad --server in the dispatcher's words (exit 1), a bad --max-workers (usage, exit 2)", async () => {
    const h = home();
    // --labels alone is a local dispatcher's (issue 15): only --token and --max-workers need a server.
    const noServer = await runBinary(["dispatcher", "--max-workers", "2"], h.env);
    expect(noServer.code).toBe(1);
    expect(noServer.err).toContain("--token and --max-workers are for a remote host: pass --server <url> too");
    const badUrl = await runBinary(["dispatcher", "--server", "ftp://x", "--token", TOKEN], h.env);
    expect(badUrl.code).toBe(1);
    expect(badUrl.err).toContain("invalid --server: must be an http(s) URL");
    expect(badUrl.err).not.toContain(TOKEN);
    const badMax = await runBinary(["dispatcher", "--server", "http://127.0.0.1:9", "--max-workers", "0"], h.env);
    expect(badMax.code).toBe(2);
    expect(badMax.err).toContain("--max-workers");
  });
});
