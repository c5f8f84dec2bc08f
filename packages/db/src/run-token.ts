import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

/**
 * Run tokens: the only credential a dispatched worker gets when it talks to the API. One token names
 * one attempt (board, task, run id) and is signed with a per-home secret, so the API can check it
 * without a table: `kbr1.<base64url JSON [board, task, run]>.<base64url HMAC-SHA256>`.
 *
 * The token itself never expires; the API refuses it as soon as its run is no longer the task's
 * current run (completed, blocked, reclaimed, crashed), which is the lifetime a worker needs.
 * The dispatcher mints (creating the secret on first use); the API only verifies (a home without a
 * secret file has no valid run token).
 */
export interface RunClaim {
  board: string;
  task: string;
  run: number;
}

export const RUN_TOKEN_PREFIX = "kbr1.";

/** `<home>/kanban/run-token.key`: 32 random bytes (hex), mode 0600. */
export function runTokenSecretPath(home: string): string {
  return path.join(home, "kanban", "run-token.key");
}

function mac(secret: Buffer, payload: string): string {
  return createHmac("sha256", secret).update(`${RUN_TOKEN_PREFIX}${payload}`).digest("base64url");
}

function decodeSecret(text: string): Buffer | null {
  const hex = text.trim();
  return /^[0-9a-f]{64}$/.test(hex) ? Buffer.from(hex, "hex") : null;
}

/**
 * Reads the secret, creating it when absent. Creation writes a private temp file and hard-links it
 * into place, so two processes racing to create it both end up with the one that won, and nobody
 * ever reads a half-written file.
 */
function loadOrCreateSecret(home: string): Buffer {
  const file = runTokenSecretPath(home);
  try {
    const existing = decodeSecret(fs.readFileSync(file, "utf8"));
    if (existing) return existing;
    throw new Error(`${file} is not a run-token secret (expected 64 hex characters); delete it to have a new one made`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  fs.writeFileSync(tmp, `${randomBytes(32).toString("hex")}\n`, { mode: 0o600, flag: "wx" });
  try {
    fs.linkSync(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  const secret = decodeSecret(fs.readFileSync(file, "utf8"));
  if (!secret) throw new Error(`${file} is not a run-token secret`);
  return secret;
}

/** Signs a token for one run (the dispatcher, when it spawns that run's worker). */
export function mintRunToken(home: string, claim: RunClaim): string {
  const payload = Buffer.from(JSON.stringify([claim.board, claim.task, claim.run])).toString("base64url");
  return `${RUN_TOKEN_PREFIX}${payload}.${mac(loadOrCreateSecret(home), payload)}`;
}

/** Whether a bearer token is meant as a run token (so it is never compared with the other kinds). */
export function isRunToken(token: string): boolean {
  return token.startsWith(RUN_TOKEN_PREFIX);
}

export interface RunTokenVerifier {
  /** The run a token was minted for, or null when it is malformed, forged or this home has no secret. */
  verify(token: string): RunClaim | null;
}

/**
 * Verifies run tokens of one home. The secret is re-read only when its file changes (stat per
 * verification), so a secret created after the server started is picked up.
 */
export function runTokenVerifier(home: string): RunTokenVerifier {
  const file = runTokenSecretPath(home);
  let cached: { key: string; secret: Buffer | null } | null = null;
  const secret = (): Buffer | null => {
    let st: fs.Stats;
    try {
      st = fs.statSync(file);
    } catch {
      cached = null;
      return null;
    }
    const key = `${st.ino}:${st.size}:${st.mtimeMs}`;
    if (cached?.key !== key) {
      let text = "";
      try {
        text = fs.readFileSync(file, "utf8");
      } catch {
        text = "";
      }
      cached = { key, secret: decodeSecret(text) };
    }
    return cached.secret;
  };
  return {
    verify(token) {
      if (!isRunToken(token)) return null;
      const parts = token.slice(RUN_TOKEN_PREFIX.length).split(".");
      if (parts.length !== 2) return null;
      const [payload, signature] = parts as [string, string];
      const key = secret();
      if (key === null) return null;
      const expected = Buffer.from(mac(key, payload));
      const given = Buffer.from(signature);
      if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
      let decoded: unknown;
      try {
        decoded = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
      } catch {
        return null;
      }
      if (!Array.isArray(decoded) || decoded.length !== 3) return null;
      const [board, task, run] = decoded as unknown[];
      if (
        typeof board !== "string" ||
        typeof task !== "string" ||
        typeof run !== "number" ||
        !Number.isSafeInteger(run) ||
        run < 1
      )
        return null;
      return { board, task, run };
    },
  };
}
