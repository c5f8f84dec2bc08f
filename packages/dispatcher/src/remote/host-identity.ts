import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { writeFileAtomic } from "./files.ts";

/**
 * A remote host's identity: `<home>/kanban/host.json` (`{"host_id": "kh-<16 hex>"}`), made on the
 * first start and kept for good, so that the server knows a restarted host as the same one (its
 * runs, its row on the board). Two homes on one machine are two hosts.
 */

export const HOST_ID = /^kh-[0-9a-f]{16}$/;

export function hostIdentityPath(home: string): string {
  return path.join(home, "kanban", "host.json");
}

export class HostIdentityError extends Error {
  override readonly name = "HostIdentityError";
}

/** The host id of this home, created when there is none. A damaged file is refused, never replaced. */
export function loadOrCreateHostId(home: string): string {
  const file = hostIdentityPath(home);
  let raw: string | null = null;
  try {
    raw = fs.readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  if (raw !== null) {
    let id: unknown = null;
    try {
      id = (JSON.parse(raw) as { host_id?: unknown }).host_id;
    } catch {
      // judged below
    }
    if (typeof id !== "string" || !HOST_ID.test(id))
      throw new HostIdentityError(
        `${file} is damaged (expected {"host_id": "kh-<16 hex digits>"}); fix or remove it (removing it makes this a new host)`,
      );
    return id;
  }
  const id = `kh-${randomBytes(8).toString("hex")}`;
  // Exclusive: two hosts started at once on one home must not both invent an id (the lock is taken after).
  try {
    writeFileAtomic(file, `${JSON.stringify({ host_id: id })}\n`, { exclusive: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return loadOrCreateHostId(home);
    throw err;
  }
  return id;
}
