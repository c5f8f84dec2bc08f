import os from "node:os";
import { type RunningServer, silentLogger, startServer } from "@kanban/api";
import { openBoard } from "@kanban/kernel";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { commandName, splitWords } from "./commands/gates.ts";
import { apiClient, cli, cliJson, createdId, type TempHome, tempHome } from "./testing/harness.ts";

/**
 * `kanban gates set|clear|show|list` and the gated answers of `kanban complete` and `kanban review
 * approve` (issue 20), on a real temporary KANBAN_HOME, locally and over HTTP against a real API
 * server. The acceptance commands' runner is played by the board itself (the dispatcher's calls).
 */
let h: TempHome;
let server: RunningServer | null = null;

function oneErrorLine(err: string): string {
  const lines = err.split("\n").filter((l) => l !== "");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^kanban: /);
  expect(err).not.toMatch(/\n\s+at /);
  return lines[0] as string;
}

/** A claimed card and the environment of its worker. */
async function claimed(id: string, profile = "coder") {
  const api = await apiClient(h.env);
  const claim = await api.tasks.claim.mutate({ id });
  return { ...h.env, KANBAN_TASK: id, KANBAN_RUN_ID: String(claim.run_id), KANBAN_PROFILE: profile };
}

/** The dispatcher's side of a round: claims its commands and reports them as failed, with a change. */
async function failRound(id: string, round: number): Promise<void> {
  const board = openBoard({ location: { home: h.home }, warn: () => {} });
  try {
    expect(await board.claimCommandRound(id, round, { claimer: "runner-test", lease_seconds: 60 })).toBe(true);
    await board.reportCommandRound(id, round, {
      claimer: "runner-test",
      results: [
        {
          name: "npm test",
          argv: ["npm", "test"],
          outcome: "failed",
          exit_code: 1,
          duration_ms: 1234,
          output_tail: "RUN parser.test.ts\nFAIL parser.test.ts\n  expected 3, got 2\n",
        },
      ],
      change: {
        base: "abc123def4567890",
        files: [{ path: "src/parser.ts", status: "M" }],
        diff: "--- a/src/parser.ts\n+++ b/src/parser.ts\n@@ -1 +1 @@\n-old\n+new\n",
        truncated: false,
      },
    });
  } finally {
    board.close();
  }
}

describe("--run words and command names", () => {
  it("splits like a shell without one, and refuses what only a shell would mean", () => {
    expect(splitWords(`npm test -- --reporter=dot`)).toEqual(["npm", "test", "--", "--reporter=dot"]);
    expect(splitWords(`node -e 'console.log("a b")' "x \\"y\\"" a\\ b`)).toEqual([
      "node",
      "-e",
      'console.log("a b")',
      'x "y"',
      "a b",
    ]);
    expect(splitWords(`echo '&&'`)).toEqual(["echo", "&&"]);
    expect(() => splitWords("npm test && npm run lint")).toThrow(/no shell/);
    expect(() => splitWords("echo 'open")).toThrow(/unclosed ' quote/);
    expect(commandName(["npm", "test", "--", "--reporter=dot"])).toBe("npm test -- --reporter-dot");
    expect(commandName(["./check.sh"])).toBe("check.sh");
  });
});

describe.each(["local", "remote"] as const)("kanban gates (%s)", (mode) => {
  beforeEach(async () => {
    h = tempHome();
    if (mode === "remote") {
      server = await startServer({ host: "127.0.0.1", port: 0, location: { home: h.home }, logger: silentLogger });
      h.env.KANBAN_URL = server.url;
    }
  });
  afterEach(async () => {
    await server?.close();
    server = null;
    h.cleanup();
  });

  it("sets, shows, lists and clears gates on a card, a profile and the board", async () => {
    const id = createdId((await cli(["create", "parser", "--assignee", "coder"], h.env)).out);
    const set = await cli(
      [
        "gates",
        "set",
        id,
        "--run",
        "npm test -- --reporter=dot",
        "--command",
        '["node","-e","process.exit(0)"]',
        "--timeout",
        "30",
        "--reviewer",
        "critic",
        "--approval",
      ],
      h.env,
    );
    expect(set.code, set.err).toBe(0);
    expect(set.out.split("\n")).toEqual([
      `Gates of ${id}:`,
      '  1. command node -e process.exit-0-: node -e "process.exit(0)" (timeout 30s)',
      "  2. command npm test -- --reporter-dot: npm test -- --reporter=dot (timeout 30s)",
      "  3. reviewer critic approves",
      "  4. a person approves",
    ]);

    const shown = await cli(["gates", "show", id], h.env);
    expect(shown.code, shown.err).toBe(0);
    expect(shown.out.split("\n")[0]).toBe(`Gates of ${id} (set on this card):`);
    expect(shown.out).not.toContain("Round");

    expect((await cli(["gates", "set", "--profile", "coder", "--approval"], h.env)).out).toBe(
      "Gates of profile coder (its cards' default):\n  1. a person approves",
    );
    expect((await cli(["gates", "set", "--board-wide", "--run", "make check"], h.env)).code).toBe(0);
    const listed = await cli(["gates", "list"], h.env);
    expect(listed.code, listed.err).toBe(0);
    const rows = listed.out.split("\n");
    expect(rows[0]).toMatch(/^SCOPE\s+KEY\s+GATES\s+UPDATED/);
    expect(
      rows
        .slice(1)
        .map((r) => r.split(/\s+/)[0])
        .sort(),
    ).toEqual(["board", "card", "profile"]);
    expect(listed.out).toContain("command make check");
    const json = await cliJson<{ gates: { scope: string; key: string }[] }>(["gates", "list"], h.env);
    expect(json.gates.map((g) => `${g.scope}:${g.key}`).sort()).toEqual(["board:*", `card:${id}`, "profile:coder"]);

    // The card's own spec wins whole; an empty one opts it out of the profile's and the board's.
    expect((await cli(["gates", "set", id, "--none"], h.env)).out).toBe(
      `${id}: no gates (it opts out of its profile's and the board's)`,
    );
    expect((await cli(["gates", "show", id], h.env)).out).toBe(`${id} has no gates: completing it makes it done.`);
    expect((await cli(["gates", "clear", id], h.env)).out).toBe(`Cleared the gates of ${id}`);
    expect((await cli(["gates", "show", id], h.env)).out.split("\n")[0]).toBe(
      `Gates of ${id} (profile coder's default):`,
    );
    expect((await cli(["gates", "clear", "--profile", "coder"], h.env)).out).toBe(
      "Cleared the gates of profile coder (its cards' default)",
    );
    expect((await cli(["gates", "show", id], h.env)).out).toBe(
      `Gates of ${id} (the board's default):\n  1. command make check: make check (timeout 600s)`,
    );
    expect((await cli(["gates", "clear", "--board-wide"], h.env)).code).toBe(0);
    expect((await cli(["gates", "clear", "--board-wide"], h.env)).out).toBe(
      "the board (every card's default) had no gates of its own",
    );
    expect((await cli(["gates", "list"], h.env)).out).toMatch(/^\(no gates/);
  });

  it("bad input is one readable line and a non-zero exit", async () => {
    const id = createdId((await cli(["create", "t", "--assignee", "coder"], h.env)).out);
    const usage: [string[], string][] = [
      [["gates", "set", id], "say which gates"],
      [["gates", "set", id, "--command", "npm test"], "--command takes the argv as a JSON array"],
      [["gates", "set", id, "--run", "npm test && npm run lint"], "no shell"],
      [["gates", "set", id, "--run", "echo 'open"], "unclosed"],
      [["gates", "set", id, "--board-wide", "--approval"], "takes one of"],
      [["gates", "set", "--approval"], "takes one of"],
      [["gates", "set", id, "--none", "--approval"], "--none"],
      [["gates", "set", id, "--approval", "--timeout", "5"], "--timeout goes with"],
      [["gates", "set", id, "--run", "x", "--timeout", "soon"], "expected an integer"],
      [["gates", "clear"], "takes one of"],
      [["gates", "show", id, "--rounds", "99"], "--rounds"],
    ];
    for (const [argv, text] of usage) {
      const r = await cli(argv, h.env);
      expect(r.code, argv.join(" ")).toBe(2);
      expect(oneErrorLine(r.err)).toContain(text);
    }
    const refused: [string[], string][] = [
      [["gates", "set", "t_deadbeef00", "--approval"], "kanban: cannot set gates of t_deadbeef00 (unknown id)"],
      [["gates", "set", "--board-wide", "--none"], "clear it instead"],
      [["gates", "set", id, "--reviewer", "no such!"], "gates.reviewer must be a profile name"],
      [["gates", "set", id, "--run", "npm test", "--timeout", "99999"], "timeout_seconds must be a whole number"],
      [["gates", "show", "t_deadbeef00"], "kanban: cannot show gates of t_deadbeef00 (unknown id)"],
      [["gates", "show", id, "--diff"], "has no kept diff"],
    ];
    for (const [argv, text] of refused) {
      const r = await cli(argv, h.env);
      expect(r.code, argv.join(" ")).toBe(1);
      expect(oneErrorLine(r.err)).toContain(text);
    }
    // Nothing was written by the refused calls.
    expect((await cli(["gates", "list"], h.env)).out).toMatch(/^\(no gates/);
  });

  it("complete says where a gated card waits; review approve records who approved", async () => {
    const id = createdId((await cli(["create", "ship", "--assignee", "coder"], h.env)).out);
    expect((await cli(["gates", "set", id, "--approval"], h.env)).code).toBe(0);
    const worker = await claimed(id);
    const done = await cli(["complete", id, "--summary", "parser shipped"], worker);
    expect(done.code, done.err).toBe(0);
    expect(done.out).toBe(
      `Completed ${id}; ${id} waits in review at its approval gate: next, a person's approval (kanban review approve, or Approve on the board)`,
    );
    const waiting = await cli(["gates", "show", id], h.env);
    expect(waiting.out).toContain("Waiting at: approval (round ");

    const ok = await cli(["review", "approve", id, "--as", "dana"], h.env);
    expect(ok.code, ok.err).toBe(0);
    expect(ok.out).toBe(`Approved ${id} → done`);
    const api = await apiClient(h.env);
    expect((await api.tasks.get.query({ id })).task.status).toBe("done");
    const card = await api.gates.card.query({ id });
    expect(card.rounds[0]?.items.map((i) => [i.gate, i.name, i.outcome])).toEqual([["approval", "dana", "passed"]]);
    expect((await cli(["gates", "show", id], h.env)).out).toContain("  approval dana: passed");

    // Without --as, the approver is the operating system's user.
    const other = createdId((await cli(["create", "second", "--assignee", "coder"], h.env)).out);
    await cli(["gates", "set", other, "--approval"], h.env);
    expect((await cli(["complete", other, "--summary", "ok"], await claimed(other))).code).toBe(0);
    expect((await cli(["review", "approve", other], h.env)).code).toBe(0);
    const by = (await api.gates.card.query({ id: other })).rounds[0]?.items[0]?.name;
    expect(by).toBe(os.userInfo().username);
  });

  it("show prints a failed round's verdicts, output tail and diff; --json has the whole evidence", async () => {
    const id = createdId((await cli(["create", "parser", "--assignee", "coder"], h.env)).out);
    expect((await cli(["gates", "set", id, "--run", "npm test"], h.env)).code).toBe(0);
    const worker = await claimed(id);
    const done = await cli(["complete", id, "--summary", "parser done"], worker);
    expect(done.out).toContain("waits in review at its commands gate: next, its acceptance commands");
    const round = Number(worker.KANBAN_RUN_ID);
    await failRound(id, round);

    const api = await apiClient(h.env);
    expect((await api.tasks.get.query({ id })).task.status).toBe("ready");
    const comments = (await api.comments.list.query({ task_id: id })).comments.map((c) => c.body);
    expect(comments.some((c) => c.startsWith("GATE FAILED"))).toBe(true);

    const shown = await cli(["gates", "show", id], h.env);
    expect(shown.code, shown.err).toBe(0);
    expect(shown.out.split("\n")).toEqual([
      `Gates of ${id} (set on this card):`,
      "  1. command npm test: npm test (timeout 600s)",
      `Round ${round}:`,
      "  command npm test: failed (exit 1, 1.2s)",
      "      | RUN parser.test.ts",
      "      | FAIL parser.test.ts",
      "      |   expected 3, got 2",
      "  change against abc123def456: 1 file",
      "      M src/parser.ts",
    ]);
    const diff = await cli(["gates", "show", id, "--diff"], h.env);
    expect(diff.code, diff.err).toBe(0);
    expect(diff.out).toBe("--- a/src/parser.ts\n+++ b/src/parser.ts\n@@ -1 +1 @@\n-old\n+new");

    const json = await cliJson<{
      task_id: string;
      gates: { scope: string; spec: { commands: { argv: string[] }[] } };
      verification: unknown;
      rounds: { round: number; items: { gate: string; outcome: string; detail: Record<string, unknown> }[] }[];
    }>(["gates", "show", id], h.env);
    expect(json.task_id).toBe(id);
    expect(json.gates.scope).toBe("card");
    expect(json.gates.spec.commands[0]?.argv).toEqual(["npm", "test"]);
    expect(json.verification).toBeNull();
    expect(json.rounds[0]?.round).toBe(round);
    expect(json.rounds[0]?.items.map((i) => [i.gate, i.outcome])).toEqual([
      ["command", "failed"],
      ["change", "recorded"],
    ]);
    expect(json.rounds[0]?.items[0]?.detail.exit_code).toBe(1);
  });
});
