#!/usr/bin/env node
// Runs the dispatcher from source (no build step): registers tsx, then loads the TypeScript entry.
import { register } from "tsx/esm/api";

register();
await import("../src/main.ts");
