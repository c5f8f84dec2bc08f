import fs from "node:fs";
import { openBoard } from "@kanban/kernel";
import { afterEach, describe, expect, it } from "vitest";
import { makeHome, type TempHome } from "./support/env.ts";
import { startKanbanServe } from "./support/kanban-serve.ts";
import { ProcessTracker } from "./support/processes.ts";
import { callProcedure, dataOf } from "./support/trpc-http.ts";

/**
 * Issue 12 item 12: `tasks.list` over a board of 562 tasks with 1 MiB bodies answered 500
 * ("Invalid string length") after building ~1.3 GB. Paged, every response stays near 4 MiB, the
 * server's peak memory grows by a bounded amount, and following `next_cursor` visits every task once.
 * 150 tasks keep the run short (each page scans the board's rows for its keys, ~1.5 ms per MiB
 * here) while one unpaged answer would still need several hundred MiB.
 */
const TASKS = 150;
const BODY_BYTES = 1024 * 1024;
const PAGE_BUDGET = 4 * 1024 * 1024;

const procs = new ProcessTracker();
let home: TempHome | undefined;

afterEach(async () => {
  await procs.killAll();
  home?.cleanup();
  home = undefined;
});

/** Peak resident memory of a process so far (Linux `VmHWM`), in bytes. */
function peakRss(pid: number): number {
  const kb = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
  if (kb === undefined) throw new Error(`no VmHWM for pid ${pid}`);
  return Number(kb) * 1024;
}

describe("tasks.list over a board of 1 MiB bodies", () => {
  it(`pages ${TASKS} tasks of 1 MiB: every response under ~4 MiB, bounded server memory, each task once`, async () => {
    home = makeHome("large-list");
    const board = openBoard({ location: { home: home.home } });
    const ids = new Set<string>();
    try {
      for (let i = 0; i < TASKS; i++)
        ids.add((await board.createTask({ title: `big ${i}`, body: `${i} `.padEnd(BODY_BYTES, "x") })).id);
    } finally {
      board.close();
    }

    const serve = await startKanbanServe(procs, home.env);
    dataOf(await callProcedure(serve.url, "tasks.list", "query", { limit: 1 }));
    const before = peakRss(serve.pid);

    const seen: string[] = [];
    const sizes: number[] = [];
    let cursor: string | null = null;
    do {
      const r = await callProcedure(serve.url, "tasks.list", "query", { limit: 1000, cursor }, 60_000);
      sizes.push(Buffer.byteLength(r.text));
      const page: { tasks: { id: string }[]; next_cursor: string | null } = dataOf(r);
      expect(page.tasks.length).toBeGreaterThan(0);
      seen.push(...page.tasks.map((t) => t.id));
      cursor = page.next_cursor;
    } while (cursor !== null);
    const grew = peakRss(serve.pid) - before;

    expect(seen).toHaveLength(TASKS);
    expect(new Set(seen)).toEqual(ids);
    // Whole tasks only: 3 bodies of ~1 MiB fit the budget, a 4th would not.
    expect(Math.max(...sizes)).toBeLessThanOrEqual(PAGE_BUDGET + 64 * 1024);
    expect(sizes).toHaveLength(Math.ceil(TASKS / 3));
    // One unpaged answer needs the whole board several times over; paging needs a few pages' worth.
    expect(grew).toBeLessThan(128 * 1024 * 1024);
    console.log(
      `large list: ${sizes.length} pages, largest ${(Math.max(...sizes) / 1048576).toFixed(2)} MiB, server peak RSS +${(grew / 1048576).toFixed(0)} MiB`,
    );
  }, 120_000);
});
