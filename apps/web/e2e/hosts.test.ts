import type { ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createKanbanClient, type KanbanClient } from "@kanban/api/client";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, stopServer } from "./global-setup.ts";
import { api, type Browser, captureOnFailure, card, column, launch, noPageErrors, shot, waitUntil } from "./helpers.ts";

/**
 * Issue 15 on the board: the Hosts view lists the remote hosts that said hello over real HTTP with
 * a host token (config.json `host_tokens`) and greys one whose lease ran out; a card created with
 * `requires` shows its labels as chips; "Cancel run" blocks a card a remote host is running, and
 * the host hears at its next heartbeat that the run is no longer its own. A server of this file's
 * own (its home holds the host tokens), driven by the hosts' own calls: no dispatcher process.
 */
const MAC_TOKEN = "e2e-host-mac-token-0123456789abcdef";
const GPU_TOKEN = "e2e-host-gpu-token-0123456789abcdef";
/** The shortest lease config.json allows: the test waits for a silent host to drop out. */
const LEASE = 5;
const MAC = "kh-00000000000e2ea1";
const GPU = "kh-00000000000e2eb2";

let b: Browser;
let home: string;
let server: { child: ChildProcess; url: string };
let admin: KanbanClient;
let mac: KanbanClient;
let gpu: KanbanClient;

beforeAll(async () => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), "kanban-e2e-hosts-"));
  fs.writeFileSync(
    path.join(home, "config.json"),
    JSON.stringify({
      profiles: { agent: { command: ["node", "-e", "0"] } },
      kanban: { host_lease_seconds: LEASE },
      host_tokens: { [MAC_TOKEN]: { name: "mac-1" }, [GPU_TOKEN]: { name: "gpu-box" } },
    }),
  );
  server = await startServer(home);
  admin = api(server.url);
  // The hosts call the board's own API route, as `kanban-dispatcher --server <url>/api` would.
  mac = createKanbanClient({ url: `${server.url}/api/trpc`, token: MAC_TOKEN });
  gpu = createKanbanClient({ url: `${server.url}/api/trpc`, token: GPU_TOKEN });
  b = await launch();
});

afterAll(async () => {
  await b?.close();
  if (server) await stopServer(server.child);
  if (home) fs.rmSync(home, { recursive: true, force: true });
});

async function freshBoard(name: string): Promise<string> {
  const slug = `${name}-${Math.random().toString(36).slice(2, 7)}`;
  await admin.boards.create.mutate({ slug, name });
  return slug;
}

async function openOwnBoard(slug: string, extra = ""): Promise<Page> {
  const page = b.context.pages()[0] ?? (await b.context.newPage());
  await page.goto(`${server.url}/?board=${encodeURIComponent(slug)}${extra}`);
  await page.locator(`[data-testid="board"][data-board="${slug}"]`).waitFor();
  await expect.poll(() => page.getByTestId("live-status").getAttribute("data-state"), { timeout: 10_000 }).toBe("live");
  return page;
}

function hello(host: KanbanClient, board: string, id: string, labels: string[], capacity: number, runs: number[] = []) {
  return host.hosts.hello.mutate({ board, host_id: id, name: null, labels, version: "0.1.0", capacity, runs });
}

/** The texts of a host's row in the view, keyed by cell. */
async function hostRow(page: Page, id: string) {
  const row = page.locator(`[data-testid="host-row"][data-host-id="${id}"]`);
  await row.waitFor();
  return {
    connected: await row.getAttribute("data-connected"),
    name: await row.getByTestId("host-name").textContent(),
    labels: await row.getByTestId("host-label").allTextContents(),
    version: await row.getByTestId("host-version").textContent(),
    lastSeen: await row.getByTestId("host-last-seen").textContent(),
    workers: await row.getByTestId("host-workers").textContent(),
    status: await row.getByTestId("host-status").textContent(),
  };
}

/** The view's half of the first test, while the hosts heartbeat; `silenceGpu` stops the gpu host's beats. */
async function hostsAreListed(page: Page, board: string, runId: number, silenceGpu: () => void) {
  expect(runId).toBeGreaterThan(0);
  // The toolbar counts them, and the view (a link of its own) lists both, connected.
  await waitUntil(
    async () => (await page.getByTestId("hosts-button").textContent())?.includes("2/2"),
    15_000,
    "the toolbar to count two connected hosts",
  );
  await page.getByTestId("hosts-button").click();
  await page.getByTestId("hosts-view").waitFor();
  expect(new URL(page.url()).searchParams.get("view")).toBe("hosts");
  const macRow = await hostRow(page, MAC);
  // The token's name wins over the one the host sends.
  expect(macRow).toMatchObject({
    connected: "true",
    name: "mac-1",
    labels: ["macos", "xcode"],
    version: "0.1.0",
    status: "Connected",
  });
  expect(macRow.lastSeen).toMatch(/^(just now|\d+s ago)$/);
  await waitUntil(
    async () => (await hostRow(page, MAC)).workers === "1 / 4",
    15_000,
    "the mac host's running worker to show",
  );
  expect(await hostRow(page, GPU)).toMatchObject({ connected: "true", name: "gpu-box", labels: ["cuda-12", "gpu"] });
  // What the view shows is what hosts.list answers.
  const listed = (await admin.hosts.list.query({ board })).hosts;
  expect(listed.map((h) => [h.id, h.name, h.connected]).sort()).toEqual([
    [MAC, "mac-1", true],
    [GPU, "gpu-box", true],
  ]);

  // The mac host keeps its heartbeat; the gpu host falls silent: past its lease it is disconnected.
  silenceGpu();
  await waitUntil(
    async () => (await hostRow(page, GPU)).connected === "false",
    (LEASE + 15) * 1000,
    "the silent gpu host to show disconnected",
  );
  const gpuRow = await hostRow(page, GPU);
  expect(gpuRow.status).toBe("Disconnected");
  // Its last heartbeat, on the page's clock (learnt from the server's, to within a second or two).
  expect(gpuRow.lastSeen).toMatch(/^(just now|\d+s ago)$/);
  expect(await hostRow(page, MAC)).toMatchObject({ connected: "true", status: "Connected" });
  // Connected hosts are listed first.
  expect(
    await page.getByTestId("host-row").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-host-id"))),
  ).toEqual([MAC, GPU]);
  await waitUntil(
    async () => (await page.getByTestId("hosts-button").textContent())?.includes("1/2"),
    10_000,
    "the toolbar to count one of two",
  );
  // The server agrees once it is asked.
  const after = (await admin.hosts.list.query({ board })).hosts;
  expect(after.find((h) => h.id === GPU)?.connected).toBe(false);
  await shot(page, "hosts");
}

describe("remote hosts on the board", () => {
  it("lists the hosts that said hello with a host token, live, and shows one disconnected after its lease", async () => {
    captureOnFailure(b, "hosts-view");
    const board = await freshBoard("hosts");
    const page = await openOwnBoard(board);
    // No host yet: the view says how to connect one.
    await page.getByTestId("hosts-button").click();
    await page.getByTestId("hosts-empty").waitFor();
    await page.keyboard.press("Escape");
    await page.getByTestId("hosts-view").waitFor({ state: "detached" });

    // Two hosts say hello over HTTP with their own tokens; the mac one runs a worker.
    expect(await hello(mac, board, MAC, ["macos", "xcode"], 4)).toMatchObject({
      host_id: MAC,
      lease_seconds: LEASE,
      revoked: [],
    });
    await hello(gpu, board, GPU, ["gpu", "cuda-12"], 2);
    const job = (await admin.tasks.create.mutate({ board, title: "Build the iOS app", assignee: "agent" })).task;
    const { claims } = await mac.hosts.claim.mutate({ board, host_id: MAC, max: 1, profiles: null, pid: 4242 });
    expect(claims.map((c) => c.task.id)).toEqual([job.id]);
    const runId = claims[0]?.run_id ?? 0;
    // Both heartbeat (every second, well within the lease) until the gpu host is told to fall silent.
    let gpuBeats = true;
    const beat = setInterval(() => {
      void mac.hosts.heartbeat.mutate({ board, host_id: MAC, running: 1, runs: [runId] }).catch(() => {});
      if (gpuBeats) void gpu.hosts.heartbeat.mutate({ board, host_id: GPU, running: 0, runs: [] }).catch(() => {});
    }, 1000);
    try {
      await hostsAreListed(page, board, runId, () => {
        gpuBeats = false;
      });
    } finally {
      clearInterval(beat);
    }
    noPageErrors(b);
  });

  it("creates a card with required labels (chips in the form, on the card and in the drawer), refusing a bad label at the field", async () => {
    captureOnFailure(b, "hosts-requires");
    const board = await freshBoard("requires");
    const page = await openOwnBoard(board);
    await page.getByTestId("new-task").click();
    const dialog = page.getByTestId("create-dialog");
    await dialog.waitFor();
    await page.getByTestId("create-title").fill("Sign the macOS build");
    await page.getByTestId("create-assignee").fill("agent");
    const requires = page.getByTestId("create-requires");
    await requires.fill("MacOS");
    await requires.press("Enter");
    // A separator adds what came before it too.
    await requires.pressSequentially("xcode,");
    expect(await dialog.getByTestId("create-requires-chip").allTextContents()).toEqual(["macos", "xcode"]);
    // A label the kernel would refuse is named at the field, and nothing is created while it is there.
    await requires.fill("mac/os");
    await requires.press("Enter");
    const error = page.getByTestId("create-requires-error");
    await error.waitFor();
    expect(await error.textContent()).toContain("'mac/os' is not a label");
    await page.getByTestId("create-submit").click();
    expect(await dialog.isVisible()).toBe(true);
    expect((await admin.tasks.list.query({ board })).tasks).toEqual([]);
    await requires.fill("");
    await expect.poll(() => error.count()).toBe(0);
    await page.getByTestId("create-submit").click();
    // Created; with no dispatcher on this home the server adds that nothing will dispatch it yet.
    const warning = page.getByTestId("create-warning");
    await waitUntil(
      async () => (await dialog.count()) === 0 || (await warning.count()) > 0,
      10_000,
      "the task to be created",
    );
    if ((await warning.count()) > 0) {
      expect(await warning.textContent()).toContain("Nothing will dispatch this task yet");
      await page.keyboard.press("Escape");
      await dialog.waitFor({ state: "detached" });
    }

    const created = await waitUntil(
      async () => (await admin.tasks.list.query({ board })).tasks.find((t) => t.title === "Sign the macOS build"),
      5000,
      "the task to be created",
    );
    if (!created) throw new Error("unreachable: waitUntil returns a found task");
    expect(created.requires).toEqual(["macos", "xcode"]);
    const c = card(page, created.id);
    await c.waitFor();
    await expect.poll(() => c.getByTestId("card-requires").allTextContents()).toEqual(["macos", "xcode"]);

    // The drawer edits them: a chip added is saved at once.
    await c.click();
    const drawer = page.getByTestId("drawer");
    await drawer.waitFor();
    await expect
      .poll(() => drawer.getByTestId("drawer-requires-chip").allTextContents(), { timeout: 10_000 })
      .toEqual(["macos", "xcode"]);
    await drawer.getByTestId("drawer-requires").fill("notarize");
    await drawer.getByTestId("drawer-requires").press("Enter");
    await waitUntil(
      async () =>
        JSON.stringify((await admin.tasks.get.query({ board, id: created.id })).task.requires) ===
        JSON.stringify(["macos", "notarize", "xcode"]),
      5000,
      "the added label to be saved",
    );
    await expect.poll(() => c.getByTestId("card-requires").count()).toBe(3);
    // A host connects with only one of the three labels: no connected host can take the card, and
    // the card and the drawer say so in the kernel's words, with the way to the hosts.
    await hello(mac, board, MAC, ["macos"], 2);
    const why = await waitUntil(
      async () => {
        const w = await admin.tasks.why.query({ board, id: created.id });
        return w.code === "no_host_for_labels" ? w : null;
      },
      10_000,
      "tasks.why to say no connected host has the labels",
    );
    if (!why) throw new Error("unreachable: waitUntil returns a found answer");
    expect(why.line).toContain("macos, notarize, xcode");
    const motion = c.getByTestId("card-motion");
    await expect.poll(() => motion.getAttribute("data-code"), { timeout: 10_000 }).toBe("no_host_for_labels");
    expect(await motion.getAttribute("data-family")).toBe("nohost");
    expect(await motion.getByTestId("card-motion-line").textContent()).toBe(why.line);
    await waitUntil(
      async () => (await drawer.getByTestId("why-panel").getAttribute("data-code")) === "no_host_for_labels",
      10_000,
      "the drawer to show no_host_for_labels",
    );
    // The drawer may have had an answer from before "notarize" was added; it asks again after it.
    await expect.poll(() => drawer.getByTestId("why-line").textContent(), { timeout: 10_000 }).toBe(why.line);
    await drawer.getByTestId("why-open-hosts").click();
    await page.getByTestId("hosts-view").waitFor();
    expect((await hostRow(page, MAC)).labels).toEqual(["macos"]);
    await page.keyboard.press("Escape");
    await page.getByTestId("hosts-view").waitFor({ state: "detached" });
    noPageErrors(b);
  });

  it("cancels a card a remote host is running: blocked with the reason, and the host's next heartbeat revokes the run", async () => {
    captureOnFailure(b, "hosts-cancel");
    const board = await freshBoard("cancel");
    await hello(mac, board, MAC, ["macos"], 2);
    const job = (
      await admin.tasks.create.mutate({ board, title: "Hung xcodebuild", assignee: "agent", requires: ["macos"] })
    ).task;
    const { claims } = await mac.hosts.claim.mutate({ board, host_id: MAC, max: 1, profiles: null, pid: 777 });
    expect(claims.map((c) => c.task.id)).toEqual([job.id]);
    const runId = claims[0]?.run_id ?? 0;
    await mac.hosts.spawned.mutate({ board, host_id: MAC, run_id: runId, pid: 778 });
    expect((await mac.hosts.heartbeat.mutate({ board, host_id: MAC, running: 1, runs: [runId] })).revoked).toEqual([]);

    const page = await openOwnBoard(board, `&task=${job.id}`);
    await column(page, "running").getByTestId(`card-${job.id}`).waitFor();
    const drawer = page.getByTestId("drawer");
    await drawer.waitFor();
    // The liveness panel names the remote machine the run is on.
    await expect.poll(() => drawer.getByTestId("live-host-name").textContent(), { timeout: 10_000 }).toBe("mac-1");
    expect(await drawer.getByTestId("live-host").textContent()).toBe(`(${MAC})`);

    await drawer.getByTestId("action-cancel-run").click();
    const confirm = page.getByTestId("confirm-dialog");
    await confirm.waitFor();
    expect(await confirm.textContent()).toContain(`Cancel the run of ${job.id}?`);
    await page.getByTestId("confirm-reason").fill("hung on code signing");
    await page.getByTestId("confirm-ok").click();

    await column(page, "blocked").getByTestId(`card-${job.id}`).waitFor();
    await expect.poll(() => drawer.getByTestId("drawer-status").textContent(), { timeout: 10_000 }).toBe("Blocked");
    expect(await drawer.getByTestId("action-cancel-run").count()).toBe(0);
    const after = await admin.tasks.get.query({ board, id: job.id });
    expect(after.task.status).toBe("blocked");
    expect(after.task.current_run_id).toBeNull();
    expect(JSON.stringify(after.events)).toContain("cancelled: hung on code signing");
    // The host learns the run is no longer its own (it stops the worker's tree).
    const beat = await mac.hosts.heartbeat.mutate({ board, host_id: MAC, running: 1, runs: [runId] });
    expect(beat.revoked.map((r) => r.run_id)).toEqual([runId]);
    noPageErrors(b);
  });
});
