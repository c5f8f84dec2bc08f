import { spawn } from "node:child_process";
import fs from "node:fs";
import { StringDecoder } from "node:string_decoder";
import { redactSecrets } from "@kanban/contract";
import { type CommandResult, GATE_LIMITS, type GateCommand } from "@kanban/kernel";
import { signalProcessGroup } from "@kanban/process";

/**
 * Runs one acceptance command of a completion gate: its argv as given (no shell, so nothing in it is
 * interpreted), in the card's workspace, as its own process group so that a timeout takes down
 * everything it started. It sees a minimal environment: the dispatcher's tokens and secrets are never
 * handed to code the worker may have written.
 */
export interface RunCommandOptions {
  /** The workspace the command runs in. */
  cwd: string;
  taskId: string;
  /** The environment PATH, HOME, LANG and TMPDIR are taken from (default: this process's). */
  baseEnv?: NodeJS.ProcessEnv;
  /** How much of the end of the output is kept (default GATE_LIMITS.output_tail_chars). */
  tailChars?: number;
}

/** The only variables passed through from the dispatcher's environment. */
const PASSED_THROUGH = ["PATH", "HOME", "LANG", "TMPDIR"] as const;
/** Never handed to a command, whatever its name says it is for. */
const SECRET_NAME = /TOKEN|SECRET|KEY|PASSWORD/i;

/** The environment an acceptance command runs with. */
export function commandEnv(base: NodeJS.ProcessEnv, taskId: string, workspace: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of PASSED_THROUGH) {
    const v = base[name];
    if (typeof v === "string" && v !== "") env[name] = v;
  }
  env.KANBAN_TASK_ID = taskId;
  env.KANBAN_WORKSPACE = workspace;
  for (const name of Object.keys(env)) if (SECRET_NAME.test(name)) delete env[name];
  return env;
}

/**
 * The end of a stream of text in bounded memory: whatever a command prints, at most about twice the
 * limit is held at once.
 */
class Tail {
  private text = "";
  constructor(private readonly max: number) {}
  push(chunk: string): void {
    this.text += chunk;
    if (this.text.length > this.max * 2) this.text = this.text.slice(this.text.length - this.max);
  }
  value(): string {
    return this.text.length <= this.max ? this.text : this.text.slice(this.text.length - this.max);
  }
}

function oneLine(message: string): string {
  return (message.split("\n")[0] ?? message).slice(0, 300);
}

/** Once the command has exited, how long its output pipes may stay open (a daemon it left holds them). */
const DRAIN_MS = 2000;

export async function runCommand(cmd: GateCommand, opts: RunCommandOptions): Promise<CommandResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const base = { name: cmd.name, argv: [...cmd.argv] };
  const unrunnable = (error: string): CommandResult => ({
    ...base,
    outcome: "error",
    exit_code: null,
    signal: null,
    timed_out: false,
    duration_ms: elapsed(),
    output_tail: "",
    error: oneLine(error),
  });
  const program = cmd.argv[0];
  if (program === undefined || program === "") return unrunnable("the command has no program");
  // spawn reports a missing cwd as ENOENT too, indistinguishable from a missing program: tell them apart first.
  let isDir = false;
  try {
    isDir = fs.statSync(opts.cwd).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir) return unrunnable(`working directory ${opts.cwd} does not exist`);

  const tail = new Tail(opts.tailChars ?? GATE_LIMITS.output_tail_chars);
  return await new Promise<CommandResult>((resolve) => {
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(program, cmd.argv.slice(1), {
        cwd: opts.cwd,
        env: commandEnv(opts.baseEnv ?? process.env, opts.taskId, opts.cwd),
        stdio: ["ignore", "pipe", "pipe"],
        detached: true,
        shell: false,
        windowsHide: true,
      });
    } catch (err) {
      resolve(unrunnable(`cannot start ${program}: ${err instanceof Error ? err.message : String(err)}`));
      return;
    }
    let settled = false;
    let timedOut = false;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
    let drainTimer: NodeJS.Timeout | null = null;
    const killGroup = () => {
      if (child.pid !== undefined && !signalProcessGroup(child.pid, "SIGKILL")) child.kill("SIGKILL");
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, cmd.timeout_seconds * 1000);
    const decoders = [new StringDecoder("utf8"), new StringDecoder("utf8")];
    child.stdout?.on("data", (d: Buffer) => tail.push(decoders[0]?.write(d) ?? ""));
    child.stderr?.on("data", (d: Buffer) => tail.push(decoders[1]?.write(d) ?? ""));
    const finish = () => {
      if (settled || exit === null) return;
      settled = true;
      clearTimeout(timer);
      if (drainTimer !== null) clearTimeout(drainTimer);
      for (const d of decoders) tail.push(d.end());
      const passed = !timedOut && exit.code === 0;
      resolve({
        ...base,
        outcome: passed ? "passed" : "failed",
        exit_code: exit.code,
        signal: exit.signal,
        timed_out: timedOut,
        duration_ms: elapsed(),
        // Kept as evidence every reader of the card sees: credentials a test run printed are cut.
        output_tail: redactSecrets(tail.value()),
        error: null,
      });
    };
    child.on("error", (err: NodeJS.ErrnoException) => {
      if (settled) return;
      if (child.pid === undefined) {
        // It never started (a missing program, not executable, a failed fork).
        settled = true;
        clearTimeout(timer);
        const why = err.code === "ENOENT" ? `${program}: program not found` : `cannot start ${program}: ${err.message}`;
        resolve(unrunnable(why));
      }
    });
    child.on("exit", (code, signal) => {
      exit = { code, signal };
      // Whatever it left running in its group goes with it: a gate's leftovers must not outlive the round.
      killGroup();
      drainTimer = setTimeout(finish, DRAIN_MS);
    });
    child.on("close", finish);
  });
}
