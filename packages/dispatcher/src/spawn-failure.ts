import { WorkspaceError } from "@kanban/workspace";
import { resolveProgram, type SpawnRequest, type WorkerPool } from "./worker.ts";

// Issue 17's `infrastructure` class (spec §2.11 [B]: "+0 for infrastructure spawn refusals, which
// never trip"): a spawn the host refused, which says nothing about the task or its profile. The
// kernel books it without counting and the respawn guard cools the task down instead.

/** A fork the kernel refused: no process slot, no memory, no file descriptor to spare. */
const FORK_CODES = new Set(["EAGAIN", "ENOMEM", "EMFILE", "ENFILE"]);
/** The program itself could not be run here: missing, or not executable. */
const PROGRAM_CODES = new Set(["ENOENT", "EACCES"]);
/** A disk that cannot take a directory or a log: full, read-only, over quota. */
const DISK_CODES = new Set(["ENOSPC", "EROFS", "EDQUOT"]);

/**
 * A worker spawn refused for host reasons. The message is the original one-liner, unchanged; only
 * the class travels with it.
 */
export class HostSpawnRefusal extends Error {
  override readonly name = "HostSpawnRefusal";
  readonly infrastructure = true;
}

function errnoOf(err: unknown): string | null {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : null;
}

/**
 * The errno Node's spawn failure names: the worker pool rewraps it as "cannot start <program>:
 * spawn <program> EAGAIN", which keeps the code only in the text.
 */
function spawnErrnoInText(err: unknown): string | null {
  const msg = err instanceof Error ? err.message : String(err);
  const m = /\bspawn\b.*\b(E[A-Z]+)\s*$/.exec(msg.split("\n")[0] ?? "");
  return m?.[1] ?? null;
}

/**
 * Classifies an error from starting a worker process: a {@link HostSpawnRefusal} (same message)
 * when the host is at fault (the program does not resolve to an executable on this host's PATH, or
 * the fork or its log's disk failed), else the error unchanged, a normal counted spawn failure.
 */
export function classifyWorkerSpawnError(
  err: unknown,
  program: string | undefined,
  envPath: string | undefined,
): unknown {
  if (err instanceof HostSpawnRefusal) return err;
  const code = errnoOf(err) ?? spawnErrnoInText(err);
  const missing = program !== undefined && program !== "" && resolveProgram(program, envPath) === null;
  const host = missing || (code !== null && (FORK_CODES.has(code) || PROGRAM_CODES.has(code) || DISK_CODES.has(code)));
  if (!host) return err;
  const refusal = new HostSpawnRefusal(err instanceof Error ? err.message : String(err));
  if (err instanceof Error && err.stack !== undefined) refusal.stack = err.stack;
  return refusal;
}

/** Starts a worker through `pool`; a refusal of the host's is rethrown as a {@link HostSpawnRefusal}. */
export async function spawnClassified(pool: Pick<WorkerPool, "spawn">, req: SpawnRequest): Promise<number> {
  try {
    return await pool.spawn(req);
  } catch (err) {
    throw classifyWorkerSpawnError(err, req.argv[0], req.env.PATH);
  }
}

/**
 * Whether a workspace that could not be materialised failed for host reasons: its directory could
 * not be created on a full, read-only or over-quota disk. A path the task names that is wrong (not
 * absolute, not a directory, outside the roots, not a repository) stays the task's failure.
 */
export function isInfrastructureWorkspaceError(err: unknown): boolean {
  const code = err instanceof WorkspaceError ? err.details?.error : errnoOf(err);
  return typeof code === "string" && DISK_CODES.has(code);
}

/** Whether a spawn failure (workspace or worker) is the host's: booked without counting (`infrastructure`). */
export function isInfrastructureSpawnError(err: unknown): boolean {
  if ((err as { infrastructure?: unknown } | null)?.infrastructure === true) return true;
  return isInfrastructureWorkspaceError(err);
}
