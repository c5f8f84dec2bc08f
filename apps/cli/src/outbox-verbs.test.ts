import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";

/**
 * `kanban complete` / `kanban block` of a remote host's worker (KANBAN_OUTBOX set): the entry is on
 * disk before the call is sent, a definitive answer is printed as always and moves it to delivered/,
 * and an outbox that cannot be written means nothing is sent. The real CLI process against a
 * loopback server speaking tRPC's wire format. (No answer at all — `queued:` — is covered with the
 * real server in packages/dispatcher/src/remote/.)
 */
const BIN = fileURLToPath(new URL("../bin/kanban.mjs", import.meta.url));

let dir: string;
let server: http.Server | null = null;
const seen: { path: string; body: Record<string, unknown>; pendingOnDisk: boolean }[] = [];
/** What the loopback server answers a call with (`tasks.complete` of a gated card answers `gated`). */
let answer: Record<string, unknown> = {};

afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = null;
  seen.length = 0;
  answer = {};
  fs.rmSync(dir, { recursive: true, force: true });
});

async function start(): Promise<string> {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "kanban-cli-outbox-"));
  server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => {
      body += c.toString("utf8");
    });
    req.on("end", () => {
      // Was the entry already on disk when the call arrived?
      const pendingOnDisk = fs.readdirSync(path.join(dir, "outbox")).some((n) => n.endsWith(".json"));
      seen.push({ path: req.url ?? "", body: JSON.parse(body || "{}"), pendingOnDisk });
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ result: { data: answer } }));
    });
  });
  const s = server;
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

function cli(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { PATH: process.env.PATH ?? "", HOME: dir, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
    });
    child.on("exit", (code) => resolve({ code, out, err }));
  });
}

function workerEnv(url: string, outbox: string): Record<string, string> {
  return {
    KANBAN_URL: url,
    KANBAN_TOKEN: "kbr1.the-run-token",
    KANBAN_TASK: "t_1",
    KANBAN_RUN_ID: "4",
    KANBAN_OUTBOX: outbox,
  };
}

describe("kanban complete/block through the outbox", { timeout: 60_000 }, () => {
  it("writes the entry before sending, prints the usual line and moves it to delivered/", async () => {
    const url = await start();
    const outbox = path.join(dir, "outbox");
    fs.mkdirSync(outbox);
    const done = await cli(["complete", "t_1", "--summary", "all good"], workerEnv(url, outbox));
    expect(done).toMatchObject({ code: 0, out: "Completed t_1\n", err: "" });
    const blocked = await cli(["block", "t_1", "need", "help"], workerEnv(url, outbox));
    expect(blocked).toMatchObject({ code: 0, out: "Blocked t_1: need help\n", err: "" });
    expect(seen.map((s) => [s.path, s.pendingOnDisk])).toEqual([
      ["/trpc/tasks.complete", true],
      ["/trpc/tasks.block", true],
    ]);
    expect(seen[0]?.body).toMatchObject({ id: "t_1", summary: "all good", expected_run_id: 4 });
    expect(fs.readdirSync(outbox).filter((n) => n.endsWith(".json"))).toEqual([]);
    const delivered = JSON.parse(fs.readFileSync(path.join(outbox, "delivered", "4-complete.json"), "utf8"));
    expect(delivered).toMatchObject({ verb: "complete", run_id: 4, answer: { ok: true } });
  });

  it("says when the board holds the completion at a gate instead of making the card done (issue 20)", async () => {
    const url = await start();
    const outbox = path.join(dir, "outbox");
    fs.mkdirSync(outbox);
    answer = { run_id: 4, gated: "commands" };
    const done = await cli(["complete", "t_1"], workerEnv(url, outbox));
    expect(done.code).toBe(0);
    expect(done.out).toMatch(/^Completed t_1; t_1 waits in review at its commands gate: next, /);
    const delivered = JSON.parse(fs.readFileSync(path.join(outbox, "delivered", "4-complete.json"), "utf8"));
    expect(delivered.answer).toEqual({ ok: true, gated: "commands" });
  });

  it("sends nothing when the outbox cannot be written (one line, exit 1)", async () => {
    const url = await start();
    fs.mkdirSync(path.join(dir, "outbox"));
    const notADir = path.join(dir, "file");
    fs.writeFileSync(notADir, "");
    const r = await cli(["complete", "t_1"], workerEnv(url, path.join(notADir, "outbox")));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^kanban: cannot keep the complete of t_1 in the outbox \(.*\): .*; nothing was sent\n$/);
    expect(r.err).not.toContain("the-run-token");
    expect(seen).toEqual([]);
  });
});
