#!/usr/bin/env node
// Runs the CLI from source (no build step): registers tsx, then loads the TypeScript entry.
import { register } from "tsx/esm/api";

register();
const { runCli } = await import("../src/main.ts");
const code = await runCli(process.argv.slice(2));
// Exit explicitly (an idle HTTP keep-alive socket must not hold a finished command open), but only
// once stdout and stderr are flushed: a pipe takes 64 KiB at a time and the rest is written later.
process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));
