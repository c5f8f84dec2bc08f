import { KanbanDbError } from "./errors.ts";

/** Where a PostgreSQL URL points, without its password: safe to print and to put in error details. */
export interface PostgresTarget {
  /** Host name, IP address, or the directory of a Unix socket. */
  host: string;
  port: number;
  database: string;
  /** The user the URL names, or null (the driver then falls back to PGUSER or the OS user). */
  user: string | null;
  /** `host:port/database`, the form every message uses. */
  label: string;
}

/** A parsed URL: the printable target, and the secrets that no message may ever contain. */
export interface ParsedPostgresUrl {
  target: PostgresTarget;
  /** The password as written in the URL and decoded, for redaction only. Never printed. */
  secrets: string[];
}

const EXAMPLE = "postgres://user:password@host:5432/database";

function invalid(why: string, target?: Partial<PostgresTarget>): KanbanDbError {
  // The URL itself is never quoted: it may carry the password. What we could read of it is named instead.
  const where = target?.host ? ` (${target.host}${target.port ? `:${target.port}` : ""})` : "";
  return new KanbanDbError("DB_URL_INVALID", `invalid PostgreSQL URL${where}: ${why}; expected ${EXAMPLE}`, {
    ...(target?.host ? { host: target.host } : {}),
    ...(target?.port ? { port: target.port } : {}),
  });
}

function decode(part: string, what: string, target?: Partial<PostgresTarget>): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw invalid(`the ${what} has a bad %-escape`, target);
  }
}

/**
 * Checks a `postgres://` or `postgresql://` URL and says where it points. Refuses, with
 * `DB_URL_INVALID` and a message that never contains the URL or its password: anything that is not
 * such a URL, a missing host, a port outside 1–65535, a bad %-escape, and a URL without a database
 * name (the driver would silently fall back to a database named like the user).
 *
 * A Unix socket is given as `?host=/run/postgresql` or as a %-encoded host (`%2Frun%2Fpostgresql`).
 */
export function parsePostgresUrl(input: unknown): ParsedPostgresUrl {
  if (typeof input !== "string" || input.trim() === "") throw invalid("no URL given");
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    throw invalid("not a URL");
  }
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") {
    // The scheme alone is safe to name, and it is the usual mistake (mysql://, file paths, http://).
    throw invalid(`the scheme is '${url.protocol.replace(/:$/, "").slice(0, 20)}', not postgres or postgresql`);
  }
  const queryHost = url.searchParams.get("host");
  const host = queryHost ?? decode(url.hostname, "host");
  const partial: Partial<PostgresTarget> = { host };
  if (host === "") throw invalid("no host given");
  const rawPort = url.searchParams.get("port") ?? url.port;
  let port = 5432;
  if (rawPort !== "") {
    port = Number(rawPort);
    if (!/^\d+$/.test(rawPort) || !Number.isInteger(port) || port < 1 || port > 65535) {
      throw invalid("the port must be a number from 1 to 65535", partial);
    }
  }
  partial.port = port;
  const database = decode(url.pathname.replace(/^\//, ""), "database name", partial);
  if (database === "") throw invalid("no database name given", partial);
  if (database.includes("/")) throw invalid("the database name contains '/'", partial);
  const user = decode(url.username, "user name", partial) || url.searchParams.get("user") || null;
  const secrets = [url.password, decode(url.password, "password", partial), url.searchParams.get("password") ?? ""]
    .filter((s) => s !== "")
    .filter((s, i, all) => all.indexOf(s) === i);
  return { target: { host, port, database, user, label: `${host}:${port}/${database}` }, secrets };
}

/** Removes every secret from a text (a server or driver message) and folds it onto one line. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length > 0) out = out.split(secret).join("***");
  return out.replace(/\s+/g, " ").trim();
}
