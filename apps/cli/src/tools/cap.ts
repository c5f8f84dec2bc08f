/** The largest tool response an agent gets (bytes of UTF-8 JSON); longer ones are cut with markers. */
export const MAX_RESPONSE_BYTES = 64 * 1024;

/** Lists ordered oldest first: when cut, their newest entries are the ones kept. */
const NEWEST_LAST = new Set(["events", "comments", "runs"]);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Path = (string | number)[];

function bytes(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

/** The biggest list or long string in the document: the one to shrink next. */
function largest(root: Json): { path: Path; size: number } | null {
  let best: { path: Path; size: number } | null = null;
  const visit = (node: Json, path: Path) => {
    if (node === null || typeof node !== "object") {
      if (typeof node === "string" && node.length > 256) {
        const size = bytes(node);
        if (best === null || size > best.size) best = { path, size };
      }
      return;
    }
    if (Array.isArray(node)) {
      if (node.length > 1) {
        const size = bytes(JSON.stringify(node));
        if (best === null || size > best.size) best = { path, size };
      }
      node.forEach((child, i) => {
        visit(child, [...path, i]);
      });
      return;
    }
    for (const [k, child] of Object.entries(node)) visit(child, [...path, k]);
  };
  visit(root, []);
  return best;
}

function at(root: Json, path: Path): Json {
  let node: Json = root;
  for (const key of path) node = (node as Record<string | number, Json>)[key] ?? null;
  return node;
}

function set(root: Json, path: Path, value: Json): void {
  const parent = at(root, path.slice(0, -1)) as Record<string | number, Json>;
  const key = path.at(-1);
  if (key !== undefined) parent[key] = value;
}

/**
 * Serialises a tool response, keeping it under `maxBytes`: the largest list is halved (keeping
 * the newest events/comments/runs, the first rows of anything else) or the longest text cut, until
 * it fits. Every cut is named in `truncated` so the agent knows it saw part of the data.
 */
export function capResponse(value: unknown, maxBytes = MAX_RESPONSE_BYTES): string {
  const text = JSON.stringify(value);
  if (bytes(text) <= maxBytes) return text;
  const doc = JSON.parse(text) as Json;
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
    return JSON.stringify({ truncated: [`response of ${bytes(text)} bytes omitted (limit ${maxBytes})`] });
  }
  const notes = new Map<string, string>();
  for (let i = 0; i < 200 && bytes(JSON.stringify({ ...doc, truncated: [...notes.values()] })) > maxBytes; i++) {
    const target = largest(doc);
    if (target === null) break;
    const node = at(doc, target.path);
    const name = target.path.join(".");
    if (Array.isArray(node)) {
      const keep = Math.floor(node.length / 2);
      const newestLast = NEWEST_LAST.has(String(target.path.at(-1)));
      set(doc, target.path, newestLast ? node.slice(node.length - keep) : node.slice(0, keep));
      const original = /of (\d+)\)$/.exec(notes.get(name) ?? "")?.[1] ?? String(node.length);
      notes.set(name, `${name}: showing ${newestLast ? "the newest" : "the first"} ${keep} (of ${original})`);
    } else if (typeof node === "string") {
      const marker = /\u2026 \[truncated, (\d+) chars omitted\]$/.exec(node);
      const body = marker ? node.slice(0, marker.index) : node;
      const keep = Math.floor(body.length / 2);
      const omitted = body.length - keep + Number(marker?.[1] ?? 0);
      set(doc, target.path, `${body.slice(0, keep)}… [truncated, ${omitted} chars omitted]`);
      notes.set(name, `${name}: text cut`);
    }
  }
  const capped = JSON.stringify({ ...doc, truncated: [...notes.values()] });
  if (bytes(capped) <= maxBytes) return capped;
  return JSON.stringify({ truncated: [`response of ${bytes(text)} bytes omitted (limit ${maxBytes})`] });
}
