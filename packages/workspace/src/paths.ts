import fs from "node:fs";
import path from "node:path";

/** `p` with symlinks resolved; as written (absolute) when it does not exist. */
export function realpath(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

/** The closest ancestor of `p` (or `p` itself) that exists. */
export function nearestExisting(p: string): string {
  let cur = p;
  while (!fs.existsSync(cur)) {
    const up = path.dirname(cur);
    if (up === cur) break;
    cur = up;
  }
  return cur;
}

/** `p` with symlinks resolved, also when its last parts do not exist yet (resolved up to the nearest existing ancestor). */
export function resolvedPath(p: string): string {
  const base = nearestExisting(p);
  return path.join(/*turbopackIgnore: true*/ realpath(base), path.relative(base, p));
}

/** Whether `p` is `root` or lies below it (both already resolved). */
export function insideOrAt(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === "" || (rel !== ".." && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

/** Whether `child` lies strictly below `root`, both as written and with symlinks resolved. */
export function isStrictDescendant(root: string, child: string): boolean {
  const inside = (r: string, c: string) => {
    const rel = path.relative(r, c);
    return rel !== "" && !rel.startsWith("..") && !path.isAbsolute(rel);
  };
  return inside(path.resolve(root), path.resolve(child)) && inside(realpath(root), realpath(child));
}
