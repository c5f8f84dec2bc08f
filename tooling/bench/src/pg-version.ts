import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The installed version of an npm package, read from its package.json (some packages' `exports` do
 * not let `require` reach it): the nearest `node_modules/<name>` up from this file, as Node resolves.
 */
export function installedVersion(name: string): string {
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    const file = path.join(dir, "node_modules", name, "package.json");
    if (fs.existsSync(file)) return String(JSON.parse(fs.readFileSync(file, "utf8")).version);
    if (path.dirname(dir) === dir) throw new Error(`${name} is not installed (npm ci at the repository root)`);
  }
}
