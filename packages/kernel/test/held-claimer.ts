// Starts a claim-worker.ts process held at its start barrier, so that a test or the benchmark can
// release several claimers at the same instant (their start-up is then not part of the race).
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { bundledScript } from "@kanban/db/testing-scripts";
import { type ClaimerBoard, claimerLaunch } from "./claimer-board.ts";

const worker = path.join(path.dirname(fileURLToPath(import.meta.url)), "claim-worker.ts");

export interface HeldClaimer {
  /** Settles once the claimer has opened the board (or has died, which `done` then reports). */
  ready: Promise<void>;
  /** The ids this claimer won, once it has run out of ready tasks. */
  done: Promise<{ name: string; won: string[]; lost: number }>;
  go(): void;
  /** SIGKILLs the claimer if it is still running (a test that timed out must not leave it claiming). */
  kill(): void;
}

/** `where`: an SQLite board file's path, or a PostgreSQL board's URL and slug (see claimer-board.ts). */
export async function heldClaimer(where: ClaimerBoard, name: string): Promise<HeldClaimer> {
  const { arg, env } = claimerLaunch(where);
  const child = spawn(process.execPath, [await bundledScript({ file: worker }), arg, name, "stdin"], {
    stdio: ["pipe", "pipe", "inherit"],
    env,
  });
  let out = "";
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  const done = new Promise<{ name: string; won: string[]; lost: number }>((resolve, reject) => {
    child.stdout.on("data", (d) => {
      out += d;
      if (out.startsWith("ready\n")) markReady();
    });
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0
        ? resolve(JSON.parse(out.slice("ready\n".length)))
        : reject(new Error(`claimer ${name} exited ${code}`)),
    );
  });
  // A claimer that dies before it is ready must fail the run, not leave the others waiting for it.
  return {
    ready: Promise.race([ready, done.then(() => {})]),
    done,
    go: () => child.stdin.end("go\n"),
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    },
  };
}
