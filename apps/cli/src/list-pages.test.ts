import { type RunningServer, silentLogger, startServer } from "@kanban/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KanbanClient } from "./client.ts";
import { loadConfig } from "./config.ts";
import { LIST_PAGE_SIZE, runList } from "./commands/read.ts";
import type { Deps } from "./deps.ts";
import { apiClient, cli, runBinary, startBinary, type TempHome, tempHome } from "./testing/harness.ts";

/**
 * `kanban list` on boards of more than one `tasks.list` page: by count (more tasks than a page
 * holds) and by size (1 MiB bodies, which end a page at ~4 MiB), locally, over HTTP to an
 * in-process server, and with the real binary against a real `kanban serve`.
 */
const MANY = 2 * LIST_PAGE_SIZE + 50;

let h: TempHome;
let server: RunningServer | null = null;
let api: KanbanClient;

/** Every task id in the API's own order, read page by page (what the CLI must print). */
async function allIds(client: KanbanClient): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const page: { tasks: { id: string }[]; next_cursor: string | null } = await client.tasks.list.query({ cursor });
    ids.push(...page.tasks.map((t) => t.id));
    cursor = page.next_cursor;
  } while (cursor !== null);
  return ids;
}

describe.each(["local", "remote"] as const)("%s: a board of several pages", (mode) => {
  // One board per mode, built once: listing changes nothing on it.
  beforeAll(async () => {
    h = tempHome();
    if (mode === "remote") {
      server = await startServer({ host: "127.0.0.1", port: 0, location: { home: h.home }, logger: silentLogger });
      h.env.KANBAN_URL = server.url;
    }
    api = await apiClient(h.env);
    for (let i = 0; i < MANY; i++)
      await api.tasks.create.mutate({ title: `task ${i}`, assignee: i % 2 === 0 ? "even" : "odd" });
  });
  afterAll(async () => {
    await server?.close();
    server = null;
    h.cleanup();
  });

  it("--json prints every task once, in the API's order, as one JSON array in the usual layout", async () => {
    const expected = await allIds(api);
    expect(expected).toHaveLength(MANY);
    const r = await cli(["list", "--json"], h.env);
    expect(r.code, r.err).toBe(0);
    const doc = JSON.parse(r.out) as { id: string }[];
    expect(doc.map((t) => t.id)).toEqual(expected);
    // The streamed array is byte for byte the two-space layout `--json` always had.
    expect(r.out).toBe(JSON.stringify(doc, null, 2));
  });

  it("text prints one line per task across pages; filters still apply on every page", async () => {
    const all = await cli(["list"], h.env);
    expect(all.out.split("\n")).toHaveLength(MANY);
    const odd = await cli(["list", "--assignee", "odd", "--json"], h.env);
    const oddIds = (JSON.parse(odd.out) as { id: string; assignee: string }[]).map((t) => t.assignee);
    expect(oddIds).toHaveLength(MANY / 2);
    expect(new Set(oddIds)).toEqual(new Set(["odd"]));
  });

  it("--limit N stops after N tasks (across a page boundary), in text and JSON; --limit 0 is a usage error", async () => {
    const expected = await allIds(api);
    const n = LIST_PAGE_SIZE + 7;
    const doc = JSON.parse((await cli(["list", "--json", "--limit", String(n)], h.env)).out) as { id: string }[];
    expect(doc.map((t) => t.id)).toEqual(expected.slice(0, n));
    expect((await cli(["list", "--limit", "3"], h.env)).out.split("\n")).toHaveLength(3);
    const bad = await cli(["list", "--limit", "0"], h.env);
    expect(bad.code).toBe(2);
    expect(bad.err).toBe("kanban: option '--limit <n>' argument '0' is invalid. expected an integer >= 1");
  });

  it("prints each page before it asks for the next one", async () => {
    const log: string[] = [];
    const client = await apiClient(h.env);
    // The real client, with its page requests recorded in the same log as the printed lines.
    const recording = {
      boards: client.boards,
      tasks: {
        recompute: client.tasks.recompute,
        list: {
          query: (input: Parameters<KanbanClient["tasks"]["list"]["query"]>[0]) => {
            log.push("page");
            return client.tasks.list.query(input);
          },
        },
      },
    } as unknown as KanbanClient;
    const deps: Deps = {
      io: { out: () => log.push("line"), err: () => {} },
      config: loadConfig(h.env),
      client: async () => recording,
      stopSignal: () => new AbortController().signal,
    };
    expect(await runList(deps, { json: true })).toBe(0);
    const pages = log.filter((e) => e === "page").length;
    expect(pages).toBe(3);
    // Before the second page is requested, the first one is out: "[" and all its tasks but the
    // last, which waits to learn whether a comma follows it.
    const second = log.indexOf("page", 1);
    expect(log.slice(1, second).filter((e) => e === "line").length).toBe(LIST_PAGE_SIZE);
  });
});

describe("the real binary against `kanban serve`: pages ended by size", () => {
  let serverHome: TempHome;
  let clientHome: TempHome;
  let serve: ReturnType<typeof startBinary>;
  let remote: Record<string, string>;
  const body = (i: number) => `${i}`.padEnd(1024 * 1024 - 16, "x");
  const COUNT = 6;

  beforeAll(async () => {
    serverHome = tempHome();
    clientHome = tempHome();
    serve = startBinary(["serve", "--port", "0"], { ...serverHome.env, KANBAN_TOKEN: "list-pages-token" });
    const m = await serve.waitFor(/Serving the kanban API at (http:\/\/127\.0\.0\.1:\d+\/trpc)/);
    remote = { ...clientHome.env, KANBAN_URL: m[1] ?? "", KANBAN_TOKEN: "list-pages-token" };
    const client = await apiClient(remote);
    for (let i = 0; i < COUNT; i++) await client.tasks.create.mutate({ title: `big ${i}`, body: body(i) });
  });
  afterAll(() => {
    serve.kill();
    serverHome.cleanup();
    clientHome.cleanup();
  });

  it("lists six 1 MiB bodies (more than one ~4 MiB page) whole, and --limit cuts the second page", async () => {
    const client = await apiClient(remote);
    const first = await client.tasks.list.query({});
    expect(first.next_cursor).not.toBeNull();
    expect(first.tasks.length).toBeLessThan(COUNT);
    const r = await runBinary(["list", "--json"], remote);
    expect(r.code, r.err).toBe(0);
    const doc = JSON.parse(r.out) as { title: string; body: string }[];
    expect(doc.map((t) => t.title).sort()).toEqual(Array.from({ length: COUNT }, (_, i) => `big ${i}`));
    for (const t of doc) expect(t.body).toBe(body(Number(t.title.slice(4))));
    const text = await runBinary(["list", "--limit", "5"], remote);
    expect(text.code, text.err).toBe(0);
    expect(text.out.split("\n")).toHaveLength(5);
  });
});

describe("the real binary on a board bigger than its heap", () => {
  let big: TempHome;
  const COUNT = 60;
  beforeAll(async () => {
    big = tempHome();
    const client = await apiClient(big.env);
    for (let i = 0; i < COUNT; i++)
      await client.tasks.create.mutate({ title: `big ${i}`, body: "y".repeat(1024 * 1024 - 16) });
  });
  afterAll(() => big.cleanup());

  // The test may run as long as the binary may (runBinary's 120 s): on a loaded machine listing
  // 60 MiB takes longer than the default 20 s, before and after the store went async alike.
  it("lists 60 MiB of bodies with a 56 MB heap: pages are printed, and stdout drained, one at a time", async () => {
    // Without waiting for stdout between pages, the in-process API answers every page before the
    // pipe takes any of it, and the whole listing waits in memory: the process then dies of OOM even
    // with 64 MB (tried by switching the wait off). With it, a page at a time peaks near 48 MB, so
    // 48 MB was at the edge (the CommonJS bundle's code, ~1 MB more than the ES one's, tipped it).
    const r = await runBinary(["list", "--json"], { ...big.env, NODE_OPTIONS: "--max-old-space-size=56" }, 120_000);
    expect(r.err).not.toMatch(/heap out of memory/);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out) as { body: string }[];
    expect(doc).toHaveLength(COUNT);
    expect(doc.every((t) => t.body.length === 1024 * 1024 - 16)).toBe(true);
  }, 150_000);
});
