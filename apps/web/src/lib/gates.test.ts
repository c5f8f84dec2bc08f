import { describe, expect, it } from "vitest";
import {
  approveState,
  changeDetail,
  commandDetail,
  commandEnding,
  commandsText,
  durationLabel,
  fileStatusWord,
  gateEventLine,
  gateSourceLabel,
  languageOf,
  parseCommandsText,
  splitCommandLine,
  stageLine,
  startsFolded,
} from "./gates.ts";

describe("a card's stage under test", () => {
  it("says what the card waits for", () => {
    expect(stageLine("commands", null)).toBe("Waiting for its acceptance commands");
    expect(stageLine("reviewer", "critic")).toBe("Waiting for reviewer critic");
    expect(stageLine("approval", null)).toBe("Waiting for your approval");
  });

  it("lets Approve through only at the approval stage (or with no round), saying what it waits for", () => {
    expect(approveState("commands", null)).toMatchObject({ disabled: true });
    expect(approveState("commands", null).title).toMatch(/acceptance commands/);
    expect(approveState("reviewer", "critic")).toMatchObject({ disabled: true });
    expect(approveState("reviewer", "critic").title).toMatch(/reviewer critic/);
    expect(approveState("approval", null).disabled).toBe(false);
    expect(approveState(null, null).disabled).toBe(false);
  });

  it("names where the gates come from", () => {
    expect(gateSourceLabel("card", "t_1")).toBe("set on this card");
    expect(gateSourceLabel("profile", "coder")).toBe("the default of profile coder");
    expect(gateSourceLabel("board", "*")).toBe("the board's default");
  });
});

describe("the commands editor", () => {
  it("splits on spaces, keeps quoted spaces and escaped characters in one argument", () => {
    expect(splitCommandLine("npm test")).toEqual({ argv: ["npm", "test"] });
    expect(splitCommandLine('  npm   run  "lint all"  ')).toEqual({ argv: ["npm", "run", "lint all"] });
    expect(splitCommandLine(`node -e 'console.log("hi there")'`)).toEqual({
      argv: ["node", "-e", 'console.log("hi there")'],
    });
    expect(splitCommandLine('echo "a \\"b\\"" c\\ d')).toEqual({ argv: ["echo", 'a "b"', "c d"] });
    expect(splitCommandLine('grep ""')).toEqual({ argv: ["grep", ""] });
    expect(splitCommandLine("echo 'open")).toEqual({ error: "unclosed single quote" });
  });

  it("reads one command per line, skipping blanks and comments, and names the line of a fault", () => {
    expect(parseCommandsText("npm test\n\n# lint too\nnpm run lint\n")).toEqual({
      commands: [
        ["npm", "test"],
        ["npm", "run", "lint"],
      ],
    });
    expect(parseCommandsText('npm test\necho "x')).toEqual({ error: "line 2: unclosed double quote" });
  });

  it("writes a spec's commands back as lines that read the same", () => {
    const commands = [{ argv: ["npm", "test"] }, { argv: ["node", "-e", 'console.log("a b")'] }, { argv: ["x", ""] }];
    const text = commandsText(commands);
    expect(text).toBe('npm test\nnode -e "console.log(\\"a b\\")"\nx ""');
    expect(parseCommandsText(text)).toEqual({ commands: commands.map((c) => c.argv) });
  });
});

describe("evidence", () => {
  it("says how a command ended and how long it took", () => {
    const base = { argv: ["npm", "test"], duration_ms: 1234 };
    expect(commandEnding(commandDetail({ ...base, exit_code: 1 }))).toBe("exit 1");
    expect(commandEnding(commandDetail({ ...base, exit_code: null, timed_out: true }))).toBe("timed out");
    expect(commandEnding(commandDetail({ ...base, exit_code: null, signal: "SIGKILL" }))).toBe("killed by SIGKILL");
    expect(commandEnding(commandDetail({ ...base, exit_code: null, error: "spawn npm ENOENT" }))).toBe(
      "could not start: spawn npm ENOENT",
    );
    expect(commandDetail(null)).toMatchObject({ argv: [], exit_code: null, duration_ms: null });
    expect(durationLabel(850)).toBe("850 ms");
    expect(durationLabel(12_400)).toBe("12.4 s");
    expect(durationLabel(185_000)).toBe("3 min 5 s");
    expect(durationLabel(null)).toBe("");
  });

  it("reads a change's files and words their status; picks a highlighting language by extension", () => {
    expect(
      changeDetail({ base: "abc", files: [{ path: "src/a.ts", status: "M" }, { nope: 1 }], truncated: false }),
    ).toEqual({ base: "abc", files: [{ path: "src/a.ts", status: "M" }], truncated: false });
    expect(fileStatusWord("A")).toBe("added");
    expect(fileStatusWord("R100")).toBe("renamed");
    expect(fileStatusWord("X")).toBe("X");
    expect(languageOf("src/parser.ts")).toBe("typescript");
    expect(languageOf("app/page.TSX")).toBe("tsx");
    expect(languageOf("Makefile")).toBeNull();
    expect(languageOf(".env")).toBeNull();
    expect(startsFolded(120)).toBe(false);
    expect(startsFolded(121)).toBe(true);
  });

  it("words the gate events for the timeline", () => {
    expect(gateEventLine("gates_set", { gates: ["command:npm test", "approval"] })).toBe(
      "gates: command:npm test, approval",
    );
    expect(gateEventLine("gates_set", { gates: [] })).toMatch(/cleared/);
    expect(gateEventLine("verification_started", { round: 4, stage: "commands", gates: ["approval"] })).toBe(
      "round 4 under test, first commands (approval)",
    );
    expect(gateEventLine("gate_passed", { gate: "command", stage: "approval" })).toBe("command passed; next approval");
    expect(gateEventLine("gate_passed", { gate: "approval", stage: "done" })).toBe("approval passed; the card is done");
    expect(gateEventLine("approval_requested", { round: 7, implementer: "coder" })).toBe(
      "round 7 passed its other gates and waits for a person's approval",
    );
    expect(gateEventLine("gate_failed", { gate: "command", failed: ["tests"], status: "ready" })).toBe(
      "command failed: tests; back to ready",
    );
    expect(gateEventLine("completed", {})).toBeNull();
  });
});
