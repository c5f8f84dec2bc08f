import { Command, Option } from "commander";
import { registerBoardInfo } from "./commands/board-info.ts";
import { registerBoards } from "./commands/boards.ts";
import { registerBudget } from "./commands/budget.ts";
import { registerCancel } from "./commands/cancel.ts";
import { registerCompletion } from "./commands/completion.ts";
import { registerCreate } from "./commands/create.ts";
import { registerDb } from "./commands/db.ts";
import { registerDispatch } from "./commands/dispatch.ts";
import { registerEditRequires } from "./commands/edit-requires.ts";
import { registerEvents } from "./commands/events.ts";
import { registerGates } from "./commands/gates.ts";
import { registerHosts } from "./commands/hosts.ts";
import { registerIncidents } from "./commands/incidents.ts";
import { registerLifecycle } from "./commands/lifecycle.ts";
import { registerNotify } from "./commands/notify.ts";
import { registerNotifyDelivery } from "./commands/notify-delivery.ts";
import { slugArg } from "./commands/parse.ts";
import { registerRead } from "./commands/read.ts";
import { registerReview } from "./commands/review.ts";
import type { Act } from "./commands/register.ts";
import { registerRouting } from "./commands/routing.ts";
import { registerServe } from "./commands/serve.ts";
import { registerStart } from "./commands/start.ts";
import { registerUsage } from "./commands/usage.ts";
import { registerWhy } from "./commands/why.ts";

export const VERSION = "0.1.0";

/**
 * The whole `kanban` command tree. `act` turns run functions into actions; main passes one that
 * builds the deps and records the exit code, the docs test one that never runs anything.
 */
export function buildProgram(act: Act, output: { out(text: string): void; err(text: string): void }): Command {
  const program = new Command("kanban");
  program
    .usage("[--board <slug>] <command> [options]")
    .description(
      "A durable task board for fleets of AI agents. With KANBAN_URL (+ KANBAN_TOKEN) every command talks to a `kanban serve`; " +
        "without, it works on the boards under KANBAN_HOME (default ~/.kanban) directly.",
    )
    .version(VERSION, "-V, --version")
    .addOption(
      new Option("--board <slug>", "the board to act on (default: KANBAN_BOARD, else the current board)").argParser(
        slugArg,
      ),
    )
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (s) => output.out(s.replace(/\n$/, "")),
      writeErr: (s) => output.err(s.replace(/\n$/, "")),
      // Errors are printed once, by main, as `kanban: <message>`.
      outputError: () => {},
    });
  for (const register of [
    registerBoardInfo,
    registerBoards,
    registerCreate,
    registerRead,
    registerWhy,
    registerRouting,
    registerLifecycle,
    // After the lifecycle verbs: it adds --requires to their `edit`.
    registerEditRequires,
    // After the lifecycle verbs too: it adds the usage flags to heartbeat, complete and block (issue 21).
    registerUsage,
    registerReview,
    registerGates,
    registerCancel,
    registerEvents,
    registerDispatch,
    registerHosts,
    registerIncidents,
    registerBudget,
    registerNotify,
    registerNotifyDelivery,
    registerServe,
    registerStart,
    registerDb,
    registerCompletion,
  ]) {
    register(program, act);
  }
  return program;
}

/** Every command path of a program (`["boards", "list"]`, `["create"]`…) with its long options, aliases included. */
export function commandPaths(program: Command): { path: string[]; options: string[] }[] {
  const out: { path: string[]; options: string[] }[] = [];
  const walk = (cmd: Command, prefix: string[]) => {
    for (const sub of cmd.commands) {
      for (const name of [sub.name(), ...sub.aliases()]) {
        const path = [...prefix, name];
        out.push({ path, options: sub.options.map((o) => o.long ?? "").filter((o) => o !== "") });
        walk(sub, path);
      }
    }
  };
  walk(program, []);
  return out;
}
