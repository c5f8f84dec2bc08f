import type { BoardLocation } from "@kanban/db";
import { makeTempDir } from "@kanban/db/testing";
import { openBoard } from "@kanban/kernel";
import { boardInternals } from "@kanban/kernel/testing";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { INPUT_MAX_DEPTH, JSON_BOUNDS, jsonProblem, rawInputProblem } from "./schemas.ts";
import { type RunningServer, startServer } from "./server.ts";
import { captureLogger, createTestApi, type TestApi } from "./testing.ts";

/** `{"a":{"a":…1…}}` nested `depth` objects deep, built as text (JSON.stringify itself would overflow). */
function deepJson(depth: number): string {
  return `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
}

function deepValue(depth: number): Record<string, unknown> {
  return JSON.parse(deepJson(depth)) as Record<string, unknown>;
}

describe("jsonProblem", () => {
  it("accepts JSON up to the depth bound and refuses one level more", () => {
    expect(jsonProblem(deepValue(JSON_BOUNDS.maxDepth))).toBeNull();
    expect(jsonProblem(deepValue(JSON_BOUNDS.maxDepth + 1))).toBe(`nested deeper than ${JSON_BOUNDS.maxDepth} levels`);
    expect(jsonProblem([[[1]]], { maxDepth: 2, maxBytes: 100 })).toBe("nested deeper than 2 levels");
  });

  it("refuses 100,000 levels without overflowing the stack", () => {
    expect(jsonProblem(deepValue(100_000))).toBe(`nested deeper than ${JSON_BOUNDS.maxDepth} levels`);
    expect(rawInputProblem({ metadata: deepValue(100_000) })).toBe(
      `metadata: nested deeper than the ${INPUT_MAX_DEPTH} levels a request may have`,
    );
  });

  it("refuses values over the byte bound and values that are not JSON", () => {
    expect(jsonProblem({ s: "é".repeat(200) }, { maxDepth: 4, maxBytes: 300 })).toBe(
      "larger than 300 bytes as JSON (408)",
    );
    expect(jsonProblem({ n: Number.NaN })).toBe("numbers must be finite");
    expect(jsonProblem({ d: new Date(0) })).toBe("this object is not JSON");
    expect(jsonProblem({ b: 1n })).toBe("a bigint is not JSON");
  });

  it("still names the first unpaired surrogate by its path, keys included", () => {
    expect(rawInputProblem({ a: "ok", b: { c: "x\ud800" } })).toBe(
      "b.c: text is not well-formed Unicode (unpaired surrogate)",
    );
    expect(rawInputProblem({ a: { "\udc00": 1 } })).toBe(
      "a.\udc00: text is not well-formed Unicode (unpaired surrogate)",
    );
    expect(rawInputProblem({ ok: ["fine", { x: 1 }] })).toBeNull();
  });
});

describe("free JSON over the caller", () => {
  let t: TestApi;
  beforeEach(() => {
    t = createTestApi();
  });
  afterEach(() => t.cleanup());

  async function running(): Promise<string> {
    const { task } = await t.api.tasks.create({ title: "w" });
    await t.api.tasks.claim({ id: task.id });
    return task.id;
  }

  it.each([JSON_BOUNDS.maxDepth + 1, 5_000, 100_000])(
    "metadata nested %i deep is a 400 naming metadata on every procedure, and nothing is stored",
    async (depth) => {
      const id = await running();
      const metadata = deepValue(depth);
      const calls = [
        t.api.tasks.complete({ id, metadata }),
        t.api.tasks.patch({ id, status: "done", metadata }),
        t.api.tasks.bulk({ ids: [id], status: "done", metadata }),
      ];
      for (const call of calls) {
        await expect(call).rejects.toMatchObject({
          code: "BAD_REQUEST",
          message: expect.stringMatching(/^metadata: nested deeper than/),
        });
      }
      expect((await t.board().requireTask(id)).status).toBe("running");
      await t.api.tasks.complete({ id, result: "r" });
      await expect(t.api.tasks.editResult({ id, result: "r2", metadata })).rejects.toMatchObject({
        code: "BAD_REQUEST",
      });
      // Every read of the task still answers.
      expect((await t.api.tasks.get({ id })).task.result).toBe("r");
      await t.api.tasks.context({ id });
    },
  );

  it("stores metadata at the bound and reads it back; refuses metadata over the byte bound", async () => {
    const id = await running();
    await expect(
      t.api.tasks.complete({ id, metadata: { big: "x".repeat(JSON_BOUNDS.maxBytes) } }),
    ).rejects.toMatchObject({
      code: "BAD_REQUEST",
      message: expect.stringMatching(/^metadata: larger than 262144 bytes as JSON/),
    });
    const metadata = deepValue(JSON_BOUNDS.maxDepth);
    await t.api.tasks.complete({ id, metadata });
    const detail = await t.api.tasks.get({ id });
    expect(detail.runs.at(-1)?.metadata).toEqual(metadata);
  });

  it("refuses any other field nested 100,000 deep before a schema walks it", async () => {
    const title = JSON.parse(`${"[".repeat(100_000)}${"]".repeat(100_000)}`) as unknown as string;
    await expect(t.api.tasks.create({ title })).rejects.toMatchObject({
      code: "BAD_REQUEST",
      message: `title: nested deeper than the ${INPUT_MAX_DEPTH} levels a request may have`,
    });
  });
});

describe("free JSON over real HTTP (kanban serve)", () => {
  let server: RunningServer;
  let location: BoardLocation;
  let cleanup: () => void;
  beforeAll(async () => {
    const tmp = makeTempDir("kanban-json-bounds-");
    cleanup = tmp.cleanup;
    location = { home: tmp.dir };
    server = await startServer({ port: 0, location, logger: captureLogger(), tenantTokens: {}, terminate: () => {} });
  });
  afterAll(async () => {
    await server.close();
    cleanup();
  });

  async function post(
    proc: string,
    body: string,
  ): Promise<{ status: number; json: { error?: { message: string; data: { httpStatus: number } } } }> {
    const res = await fetch(`${server.url}/trpc/${proc}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    return {
      status: res.status,
      json: (await res.json()) as { error?: { message: string; data: { httpStatus: number } } },
    };
  }

  it.each([5_000, 100_000])(
    "a %i-deep metadata is a 400 naming the field; the task stays running and readable",
    async (depth) => {
      const created = await post("tasks.create", JSON.stringify({ title: `deep ${depth}` }));
      expect(created.status).toBe(200);
      const id = (created.json as unknown as { result: { data: { task: { id: string } } } }).result.data.task.id;
      expect((await post("tasks.claim", JSON.stringify({ id }))).status).toBe(200);

      const body = `{"id":${JSON.stringify(id)},"metadata":${deepJson(depth)}}`;
      const refused = await post("tasks.complete", body);
      expect(refused.status).toBe(400);
      expect(refused.json.error?.message).toMatch(/^metadata: nested deeper than/);

      const board = openBoard({ location });
      try {
        expect((await board.requireTask(id)).status).toBe("running");
      } finally {
        board.close();
      }
      const read = await fetch(`${server.url}/trpc/tasks.get?input=${encodeURIComponent(JSON.stringify({ id }))}`);
      expect(read.status).toBe(200);
    },
  );
});

describe("stored JSON that is too deep (written by another program)", () => {
  let t: TestApi;
  beforeEach(() => {
    t = createTestApi();
  });
  afterEach(() => t.cleanup());

  it("never breaks a read of the task or of its children", async () => {
    const parent = (await t.api.tasks.create({ title: "p" })).task;
    const child = (await t.api.tasks.create({ title: "c", parents: [parent.id] })).task;
    await t.api.tasks.claim({ id: parent.id });
    await t.api.tasks.complete({ id: parent.id, result: "r", metadata: { ok: true } });
    const sqlite = boardInternals(t.board()).sqlite;
    sqlite.prepare("UPDATE task_runs SET metadata = ? WHERE task_id = ?").run(deepJson(3_000), parent.id);
    sqlite.prepare("UPDATE task_events SET payload = ? WHERE task_id = ?").run(deepJson(3_000), parent.id);
    // Serialised as the HTTP layer would: a value read back 3,000 levels deep would overflow here.
    for (const id of [parent.id, child.id]) {
      expect(JSON.stringify(await t.api.tasks.get({ id }))).toContain(id);
      expect(JSON.stringify(await t.api.tasks.context({ id }))).toContain(id);
    }
    expect(JSON.stringify(await t.api.board.get())).toContain(child.id);
  });
});
