import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { openBoard as openKernelBoard } from "@kanban/kernel";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  api,
  type Browser,
  captureOnFailure,
  card,
  column,
  freshBoard,
  kanbanHome,
  launch,
  noPageErrors,
  openBoard,
  shot,
  waitUntil,
} from "./helpers.ts";

// Issue 20, completion gates on the board: the drawer's Gates section says where a card under test
// waits, a person approves the last gate from the drawer, and a round's evidence shows the command
// results and the change they judged (a real git diff, highlighted).

let b: Browser;
const temps: string[] = [];
beforeAll(async () => {
  b = await launch();
});
afterAll(async () => {
  await b?.close();
  for (const dir of temps) fs.rmSync(dir, { recursive: true, force: true });
});

function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", args, {
    cwd,
    encoding: "utf8",
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: "e2e",
      GIT_AUTHOR_EMAIL: "e2e@example.invalid",
      GIT_COMMITTER_NAME: "e2e",
      GIT_COMMITTER_EMAIL: "e2e@example.invalid",
      GIT_CONFIG_NOSYSTEM: "1",
      HOME: os.tmpdir(),
    },
  });
}

/** A repository with one commit and a worktree on a card's branch where the work changed a file and added one. */
function workedTree(): { base: string; files: { path: string; status: string }[]; diff: string } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "kanban-gates-git-"));
  temps.push(root);
  const repo = path.join(root, "repo");
  fs.mkdirSync(path.join(repo, "src"), { recursive: true });
  git(repo, "init", "-q", "-b", "main");
  fs.writeFileSync(
    path.join(repo, "src", "parser.ts"),
    [
      "// Reads one line of the config.",
      "export function parseLine(line: string): [string, string] {",
      '  const [key, value] = line.split("=");',
      "  return [key, value];",
      "}",
      "",
    ].join("\n"),
  );
  git(repo, "add", "-A");
  git(repo, "commit", "-q", "-m", "parser");
  const base = git(repo, "rev-parse", "HEAD").trim();
  const tree = path.join(root, "worktree");
  git(repo, "worktree", "add", "-q", "-b", "card/parse-config", tree);
  fs.writeFileSync(
    path.join(tree, "src", "parser.ts"),
    [
      "// Reads one line of the config.",
      'import { trimQuotes } from "./tokens";',
      "",
      "export function parseLine(line: string): [string, string] {",
      '  const at = line.indexOf("=");',
      '  if (at < 0) throw new Error("no = in the line: " + line);',
      "  return [line.slice(0, at).trim(), trimQuotes(line.slice(at + 1).trim())];",
      "}",
      "",
    ].join("\n"),
  );
  fs.writeFileSync(
    path.join(tree, "src", "tokens.ts"),
    [
      "/** Drops one pair of surrounding quotes. */",
      "export function trimQuotes(value: string): string {",
      '  return /^".*"$/.test(value) ? value.slice(1, -1) : value;',
      "}",
      "",
    ].join("\n"),
  );
  git(tree, "add", "-A");
  const files = git(tree, "diff", "--name-status", base)
    .trim()
    .split("\n")
    .map((line) => {
      const [status, file] = line.split("\t");
      return { path: file as string, status: status as string };
    });
  return { base, files, diff: git(tree, "diff", base) };
}

describe("completion gates in the drawer", () => {
  it("a card waiting for a person's approval says so; Approve makes it done and keeps the approver", async () => {
    captureOnFailure(b, "gates-approval");
    const board = await freshBoard("gates-approval");
    const client = api();
    const { task } = await client.tasks.create.mutate({ board, title: "Ship the parser", assignee: "coder" });
    await client.gates.set.mutate({ board, scope: "card", key: task.id, spec: { approval: true } });
    const claim = await client.tasks.claim.mutate({ board, id: task.id });
    const held = await client.tasks.complete.mutate({
      board,
      id: task.id,
      expected_run_id: claim.run_id,
      summary: "parser added",
    });
    expect("gated" in held && held.gated).toBe("approval");

    let page = await openBoard(b, board);
    // The approver is the name this browser signs its comments with.
    await page.evaluate(() => window.localStorage.setItem("kanban.displayName", "Dana"));
    page = await openBoard(b, board);
    await column(page, "review").getByTestId(`card-${task.id}`).waitFor();
    await card(page, task.id).click();
    const drawer = page.getByTestId("drawer");
    const gates = drawer.getByTestId("gates");
    await gates.getByTestId("gates-stage").waitFor();
    expect(await gates.getByTestId("gates-stage").textContent()).toContain("Waiting for your approval");
    expect(await gates.getByTestId("gates-source").textContent()).toBe("set on this card");
    const approve = drawer.getByTestId("action-approve");
    expect(await approve.isDisabled()).toBe(false);
    await approve.click();

    await column(page, "done").getByTestId(`card-${task.id}`).waitFor();
    expect((await client.tasks.get.query({ board, id: task.id })).task.status).toBe("done");
    const verdict = gates.getByTestId("gate-approval");
    await verdict.waitFor();
    expect(await verdict.textContent()).toMatch(/approval given\s*by\s*Dana/);
    expect(await gates.getByTestId("gates-stage").count()).toBe(0);
    const evidence = await client.gates.card.query({ board, id: task.id });
    expect(evidence.rounds[0]?.items.map((i) => [i.gate, i.name, i.outcome])).toEqual([["approval", "Dana", "passed"]]);
    noPageErrors(b);
  });

  it("shows a round's failed command and the change it judged, highlighted; Approve waits for the commands", async () => {
    captureOnFailure(b, "gates-diff");
    const change = workedTree();
    expect(change.files).toEqual([
      { path: "src/parser.ts", status: "M" },
      { path: "src/tokens.ts", status: "A" },
    ]);
    const board = await freshBoard("gates-diff");
    const client = api();
    const { task } = await client.tasks.create.mutate({
      board,
      title: "Parse quoted config values",
      assignee: "coder",
    });
    await client.gates.set.mutate({ board, scope: "card", key: task.id, spec: { commands: [["npm", "test"]] } });
    const claim = await client.tasks.claim.mutate({ board, id: task.id });
    const run = claim.run_id as number;
    const held = await client.tasks.complete.mutate({ board, id: task.id, expected_run_id: run });
    expect("gated" in held && held.gated).toBe("commands");

    const page = await openBoard(b, board);
    await card(page, task.id).click();
    const drawer = page.getByTestId("drawer");
    const gates = drawer.getByTestId("gates");
    await gates.getByTestId("gates-stage").waitFor();
    expect(await gates.getByTestId("gates-stage").textContent()).toContain("Waiting for its acceptance commands");
    // A card whose commands have not reported cannot be approved past them.
    const approve = drawer.getByTestId("action-approve");
    expect(await approve.isDisabled()).toBe(true);
    expect(await approve.getAttribute("title")).toMatch(/acceptance commands/);

    // The dispatcher's runner: it takes the round and reports a failing test run with the change.
    const k = openKernelBoard({ location: { home: kanbanHome() }, board, warn: () => {} });
    try {
      expect(await k.claimCommandRound(task.id, run, { claimer: "e2e-runner", lease_seconds: 60 })).toBe(true);
      await k.reportCommandRound(task.id, run, {
        claimer: "e2e-runner",
        results: [
          {
            name: "npm test",
            argv: ["npm", "test"],
            outcome: "failed",
            exit_code: 1,
            duration_ms: 4210,
            output_tail: "FAIL src/parser.test.ts > parseLine\n  expected 'a' to be 'b'\nTests 1 failed | 7 passed\n",
          },
        ],
        change: { base: change.base, files: change.files, diff: change.diff, truncated: false },
      });
    } finally {
      k.close();
    }

    // The live stream brings the card back to its implementer and the evidence into the drawer.
    await column(page, "ready").getByTestId(`card-${task.id}`).waitFor();
    const round = gates.locator(`[data-testid="gate-round"][data-round="${run}"]`);
    await round.waitFor();
    const command = round.getByTestId("gate-command");
    expect(await command.getAttribute("data-outcome")).toBe("failed");
    expect(await command.textContent()).toMatch(/npm test.*exit 1.*4\.2 s/);
    expect(await round.getByTestId("gate-command-output").textContent()).toContain("expected 'a' to be 'b'");
    expect(await round.getByTestId("gate-change-file").allTextContents()).toEqual([
      "modifiedsrc/parser.ts",
      "addedsrc/tokens.ts",
    ]);
    const diff = round.getByTestId("gate-diff");
    await diff.waitFor();
    expect(await diff.getByTestId("gate-diff-file").evaluateAll((els) => els.map((e) => e.dataset.path))).toEqual([
      "src/parser.ts",
      "src/tokens.ts",
    ]);
    // The added lines are there, as text, with the grammar's tokens around their keywords.
    const inserted = diff.locator(".diff-code-insert");
    await waitUntil(async () => (await inserted.count()) > 0, 10_000, "the diff's lines");
    expect((await inserted.allTextContents()).join("\n")).toContain('import { trimQuotes } from "./tokens";');
    expect(await diff.locator(".diff-code-insert .token.keyword").count()).toBeGreaterThan(3);
    expect(await diff.locator(".diff-code-delete").allTextContents()).toContain(
      '  const [key, value] = line.split("=");',
    );
    // The diff's text is never markup: a `<` in the code is a character on the page.
    expect((await inserted.allTextContents()).join("\n")).toContain("if (at < 0) throw new Error(");
    await drawer.getByTestId("gates").scrollIntoViewIfNeeded();
    await round.getByTestId("gate-change").scrollIntoViewIfNeeded();
    await shot(page, "gates-diff");
    noPageErrors(b);
  });
  it("puts gates on a card from the drawer, showing the kernel's refusal of a bad spec under the form", async () => {
    captureOnFailure(b, "gates-editor");
    const board = await freshBoard("gates-editor");
    const client = api();
    const { task } = await client.tasks.create.mutate({ board, title: "Gate me", assignee: "coder" });
    const page = await openBoard(b, board);
    await card(page, task.id).click();
    const gates = page.getByTestId("drawer").getByTestId("gates");
    await gates.getByTestId("gates-edit").click();
    const editor = gates.getByTestId("gates-editor");
    // An unclosed quote is caught before anything is sent.
    await editor.getByTestId("gates-commands").fill('npm test\nnpm run "lint');
    await editor.getByTestId("gates-save").click();
    expect(await editor.getByTestId("gates-error").textContent()).toBe("Commands, line 2: unclosed double quote");
    // A reviewer name the kernel refuses: its own words, under the form.
    await editor.getByTestId("gates-commands").fill('npm test\nnpm run "lint all"');
    await editor.getByTestId("gates-reviewer").fill("not a profile!");
    await editor.getByTestId("gates-save").click();
    await waitUntil(
      async () => /reviewer must be a profile name/.test((await editor.getByTestId("gates-error").textContent()) ?? ""),
      10_000,
      "the kernel's refusal",
    );
    expect((await client.gates.card.query({ board, id: task.id })).gates).toBeNull();
    await editor.getByTestId("gates-reviewer").fill("critic");
    await editor.getByTestId("gates-approval").check();
    await editor.getByTestId("gates-save").click();
    await editor.waitFor({ state: "detached" });
    const saved = await client.gates.card.query({ board, id: task.id });
    expect(saved.gates?.spec).toMatchObject({
      commands: [{ argv: ["npm", "test"] }, { argv: ["npm", "run", "lint all"] }],
      reviewer: "critic",
      approval: true,
    });
    await waitUntil(
      async () => ((await gates.getByTestId("gates-spec").textContent()) ?? "").includes("reviewer critic"),
      10_000,
      "the saved gates",
    );
    expect(await gates.getByTestId("gates-source").textContent()).toBe("set on this card");
    // The timeline words the new event.
    await page.getByTestId("drawer").locator('[data-kind="gates_set"]').first().waitFor();
    expect(await page.getByTestId("drawer").locator('[data-kind="gates_set"]').first().textContent()).toContain(
      "Gates set",
    );
    // Removed again: no gates.
    await gates.getByTestId("gates-edit").click();
    await gates.getByTestId("gates-clear").click();
    await waitUntil(async () => (await gates.getByTestId("gates-spec").count()) === 0, 10_000, "the gates to go");
    expect((await client.gates.card.query({ board, id: task.id })).gates).toBeNull();
    noPageErrors(b);
  });
});
