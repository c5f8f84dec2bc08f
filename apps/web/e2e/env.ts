import path from "node:path";
import { fileURLToPath } from "node:url";

/** apps/web */
export const WEB_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const REPO_ROOT = path.resolve(WEB_DIR, "..", "..");
/** Where the docs pick up the board's screenshots. */
export const SCREENSHOT_DIR = path.join(REPO_ROOT, "docs", "screenshots");
/** Debian's chromium (never a downloaded browser); CHROMIUM overrides the path. */
export const CHROMIUM = process.env.CHROMIUM?.trim() || "/usr/bin/chromium";
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

declare module "vitest" {
  export interface ProvidedContext {
    baseUrl: string;
    kanbanHome: string;
    /** The run's one chromium (global setup's launchServer): each test file opens a context of its own in it. */
    browserWs: string;
  }
}
