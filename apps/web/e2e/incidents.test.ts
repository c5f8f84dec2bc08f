import { openBoard as openKernelBoard } from "@kanban/kernel";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  api,
  type Browser,
  captureOnFailure,
  freshBoard,
  kanbanHome,
  launch,
  noPageErrors,
  openBoard,
  shot,
} from "./helpers.ts";

// Issue 17, incident folding on the board: an outage of one profile shows as one banner at the top
// ("Paused: 4 runs of coder failed (transient) since 14:02 — next probe 14:05 [Resume now]"), and
// Resume now ends it for everyone.

let b: Browser;
beforeAll(async () => {
  b = await launch();
});
afterAll(async () => {
  await b?.close();
});

/** Four cards of coder whose workers exit 69 (a provider outage) in one crash sweep: one incident. */
async function outage(board: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < 4; i++)
    ids.push((await api().tasks.create.mutate({ board, title: `call the provider ${i}`, assignee: "coder" })).task.id);
  await api().tasks.create.mutate({ board, title: "write the notes", assignee: "writer" });
  const k = openKernelBoard({ location: { home: kanbanHome() }, board, warn: () => {} });
  try {
    const pids = new Set<number>();
    for (const [n, id] of ids.entries()) {
      const claimed = await k.claimTask(id);
      const pid = 4_000_000 + n;
      await k.recordSpawn(id, pid, claimed?.current_run_id as number);
      pids.add(pid);
    }
    await k.detectCrashedWorkers({ exitStatus: (p) => (pids.has(p) ? { code: 69, signal: null } : undefined) });
  } finally {
    k.close();
  }
  return ids;
}

describe("incident banner", () => {
  it("shows one banner per open incident with its sentence; Resume now closes it", async () => {
    captureOnFailure(b, "incident-banner");
    const board = await freshBoard("incident");
    await outage(board);
    const [incident] = (await api().incidents.list.query({ board })).incidents;
    expect(incident).toMatchObject({ scope_key: "coder", failure_class: "transient", failures: 4, open: true });

    const page = await openBoard(b, board);
    const banner = page.getByTestId("incident-banner");
    await banner.waitFor();
    expect(await banner.count()).toBe(1);
    expect(await banner.getAttribute("data-incident")).toBe(String(incident?.id));
    expect(await page.getByTestId("incident-line").textContent()).toMatch(
      /^Paused: 4 runs of coder failed \(transient\) since \d\d:\d\d — next probe \d\d:\d\d$/,
    );
    await shot(page, "incident");

    await page.getByTestId("incident-resume").click();
    await banner.waitFor({ state: "detached" });
    expect((await api().incidents.list.query({ board })).incidents).toEqual([]);
    const [closed] = (await api().incidents.list.query({ board, all: true })).incidents;
    expect(closed).toMatchObject({ id: incident?.id, open: false, closed_by: "person:operator" });
    noPageErrors(b);
  });
});
