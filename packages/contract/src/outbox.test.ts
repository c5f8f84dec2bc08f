import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  DELIVERED_DIR,
  deliveredEntriesOf,
  deliverOutboxEntry,
  listPendingEntries,
  type OutboxEntry,
  pendingEntriesOf,
  pruneDelivered,
  writeOutboxEntry,
} from "./outbox.ts";

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "kanban-outbox-"));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function entry(over: Partial<OutboxEntry> = {}): OutboxEntry {
  return {
    v: 1,
    verb: "complete",
    url: "http://127.0.0.1:1/trpc",
    token: "kbr1.secret-run-token",
    board: null,
    task_id: "t_1",
    run_id: 7,
    input: { id: "t_1", summary: "done", expected_run_id: 7 },
    created_at: 1000,
    ...over,
  };
}

/** A loopback server answering every POST with `answer(path, body)`; records what it received. */
async function server(answer: (p: string, body: string) => { status: number; body: string }) {
  const seen: { path: string; body: string; auth: string | undefined }[] = [];
  const srv = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => {
      body += c.toString("utf8");
    });
    req.on("end", () => {
      seen.push({ path: req.url ?? "", body, auth: req.headers.authorization });
      const a = answer(req.url ?? "", body);
      res.writeHead(a.status, { "content-type": "application/json" }).end(a.body);
    });
  });
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}/trpc`;
  return { url, seen, close: () => new Promise<void>((resolve) => srv.close(() => resolve())) };
}

describe("outbox entries on disk", () => {
  it("are written atomically with mode 0600 and listed as pending", () => {
    const file = writeOutboxEntry(dir, entry());
    expect(path.basename(file)).toBe("7-complete.json");
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(dir).filter((n) => n.endsWith(".tmp"))).toEqual([]);
    expect(listPendingEntries(dir).map((p) => p.entry)).toEqual([entry()]);
    expect(pendingEntriesOf(dir, 7)).toHaveLength(1);
    expect(pendingEntriesOf(dir, 8)).toHaveLength(0);
  });

  it("refuses a malformed entry, and leaves a corrupt file in place (reported, never sent)", () => {
    expect(() => writeOutboxEntry(dir, { ...entry(), run_id: 0 })).toThrow(/run_id/);
    fs.writeFileSync(path.join(dir, "9-block.json"), "{not json");
    const bad: string[] = [];
    expect(listPendingEntries(dir, (f) => bad.push(path.basename(f)))).toEqual([]);
    expect(bad).toEqual(["9-block.json"]);
    expect(fs.existsSync(path.join(dir, "9-block.json"))).toBe(true);
  });
});

describe("delivering an entry", () => {
  it("stays pending while the server cannot be reached", async () => {
    // A port nobody listens on: bind one, then close it.
    const s = await server(() => ({ status: 200, body: "{}" }));
    await s.close();
    writeOutboxEntry(dir, entry({ url: s.url }));
    const r = await deliverOutboxEntry(dir, entry({ url: s.url }));
    expect(r.state).toBe("pending");
    expect(r.state === "pending" && r.reason).toMatch(/cannot reach the server/);
    expect(r.state === "pending" && r.reason).not.toContain("secret-run-token");
    expect(pendingEntriesOf(dir, 7)).toHaveLength(1);
  });

  it("is delivered on 2xx (replayed kept), with the run token as bearer and the exact input", async () => {
    const s = await server(() => ({ status: 200, body: JSON.stringify({ result: { data: { replayed: true } } }) }));
    try {
      const e = entry({ url: s.url });
      writeOutboxEntry(dir, e);
      const r = await deliverOutboxEntry(dir, e, { now: () => 2000 });
      expect(r).toEqual({ state: "delivered", answer: { ok: true, replayed: true } });
      expect(s.seen).toEqual([
        { path: "/trpc/tasks.complete", body: JSON.stringify(e.input), auth: `Bearer ${e.token}` },
      ]);
      expect(pendingEntriesOf(dir, 7)).toEqual([]);
      const delivered = deliveredEntriesOf(dir, 7);
      expect(delivered).toHaveLength(1);
      expect(delivered[0]?.answer).toEqual({ ok: true, replayed: true });
      expect(delivered[0]?.delivered_at).toBe(2000);
      expect(fs.statSync(path.join(dir, DELIVERED_DIR, "7-complete.json")).mode & 0o777).toBe(0o600);
    } finally {
      await s.close();
    }
  });

  it("keeps the stage a gated completion waits at (issue 20), so the worker is told it is not done", async () => {
    const s = await server(() => ({
      status: 200,
      body: JSON.stringify({ result: { data: { run_id: 7, gated: "commands" } } }),
    }));
    try {
      const e = entry({ url: s.url });
      writeOutboxEntry(dir, e);
      expect(await deliverOutboxEntry(dir, e, { now: () => 2000 })).toEqual({
        state: "delivered",
        answer: { ok: true, gated: "commands" },
      });
      expect(deliveredEntriesOf(dir, 7)[0]?.answer).toEqual({ ok: true, gated: "commands" });
    } finally {
      await s.close();
    }
  });

  it("is delivered on the API's 409 STALE_RUN (definitive), pending on 5xx and on a non-API 4xx", async () => {
    let status = 500;
    const s = await server(() =>
      status === 404
        ? { status: 404, body: "<html>not here</html>" }
        : {
            status,
            body: JSON.stringify({
              error: {
                message: "run 7 is no longer the current run\nsecond line",
                code: -32000,
                data: { code: "CONFLICT", httpStatus: status, kanbanCode: "STALE_RUN" },
              },
            }),
          },
    );
    try {
      const e = entry({ url: s.url, verb: "block", input: { id: "t_1", reason: "r", expected_run_id: 7 } });
      writeOutboxEntry(dir, e);
      expect(await deliverOutboxEntry(dir, e)).toEqual({
        state: "pending",
        reason: "the server answered 500 (STALE_RUN)",
      });
      status = 404;
      expect((await deliverOutboxEntry(dir, e)).state).toBe("pending");
      status = 409;
      expect(await deliverOutboxEntry(dir, e)).toEqual({
        state: "delivered",
        answer: { ok: false, code: "STALE_RUN", message: "run 7 is no longer the current run" },
      });
      expect(s.seen.map((x) => x.path)).toEqual(["/trpc/tasks.block", "/trpc/tasks.block", "/trpc/tasks.block"]);
      expect(pendingEntriesOf(dir, 7)).toEqual([]);
      expect(deliveredEntriesOf(dir, 7)[0]?.answer.ok).toBe(false);
    } finally {
      await s.close();
    }
  });

  it("prunes delivered entries older than the age given, and only those", async () => {
    const s = await server(() => ({ status: 200, body: JSON.stringify({ result: { data: {} } }) }));
    try {
      const old = entry({ url: s.url, run_id: 1 });
      const recent = entry({ url: s.url, run_id: 2 });
      writeOutboxEntry(dir, old);
      writeOutboxEntry(dir, recent);
      await deliverOutboxEntry(dir, old, { now: () => 1000 });
      await deliverOutboxEntry(dir, recent, { now: () => 5000 });
      expect(pruneDelivered(dir, 3600, 6000)).toBe(1);
      expect(deliveredEntriesOf(dir, 1)).toEqual([]);
      expect(deliveredEntriesOf(dir, 2)).toHaveLength(1);
    } finally {
      await s.close();
    }
  });

  it("keeps a newer pending write of the same run and verb when an older one is delivered", async () => {
    const s = await server(() => ({ status: 200, body: JSON.stringify({ result: { data: {} } }) }));
    try {
      const older = entry({ url: s.url });
      writeOutboxEntry(dir, older);
      const newer = entry({ url: s.url, created_at: 1001, input: { id: "t_1", summary: "again", expected_run_id: 7 } });
      writeOutboxEntry(dir, newer);
      await deliverOutboxEntry(dir, older);
      expect(pendingEntriesOf(dir, 7).map((p) => p.entry)).toEqual([newer]);
    } finally {
      await s.close();
    }
  });
});
