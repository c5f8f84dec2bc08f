import { createHash, timingSafeEqual } from "node:crypto";
import {
  homeConfigReader,
  type HomeConfigReader,
  type HostTokenGrant,
  isRunToken,
  type RunClaim,
  type RunTokenVerifier,
  runTokenVerifier,
} from "@kanban/db";
import type { Logger } from "./logger.ts";

/** Who may call, as configured: one admin token, tenant-scoped tokens (token → tenant), host tokens and run tokens. */
export interface AuthConfig {
  /** The admin token (`KANBAN_TOKEN`). Unset = open, which only a loopback binding allows. */
  token?: string | null;
  /** Tenant-scoped tokens: every read and write of their holder is confined to that tenant. */
  tenantTokens?: Record<string, string>;
  /**
   * `config.json` declares `tenant_tokens` (even an empty or broken one). Without an admin token a
   * request that carries no token is then refused, never admin: the operator meant to confine callers.
   */
  tenantTokensDeclared?: boolean;
  /** Checks dispatched workers' run tokens (see `@kanban/db` run-token). */
  runTokens?: RunTokenVerifier | null;
  /**
   * Remote hosts' tokens (token → grant): such a caller may only claim, renew and report through
   * `hosts.*` (run-scope.ts), and only its grant's tenant's tasks when it has one.
   */
  hostTokens?: Record<string, HostTokenGrant>;
}

/** A remote host's caller: the grant of the host token it authenticated with. */
export interface HostCaller {
  /** The token's `name` (null: the host names itself in `hosts.hello`). */
  name: string | null;
  /** The only tenant whose tasks this host may claim; null: any. */
  tenant: string | null;
}

export interface RequestFacts {
  method: string;
  /** Header lookup, case-insensitive, null when absent. */
  header(name: string): string | null;
  url: URL;
}

/**
 * Who the caller is: admin (tenant, run and host null), a tenant (tenant set), one worker run (run
 * set; the run-scope middleware confines it to that run and sets its tenant from the task) or a
 * remote host (host set, tenant its grant's; the run-scope middleware confines it to `hosts.*`).
 */
export type AuthDecision =
  | { ok: true; tenant: string | null; run: RunClaim | null; host: HostCaller | null }
  | { ok: false; status: 401 | 403; message: string };

/** What a request without a token hears when tenant tokens exist but no admin token does. */
export const NO_TOKEN_WITH_TENANTS =
  "this server has tenant tokens and no admin token: send a token (Authorization: Bearer <token>); start the server with KANBAN_TOKEN for admin access";

const LOOPBACK_HOSTNAMES = new Set(["localhost", "127.0.0.1", "::1", "[::1]"]);

/** Whether a bind address or Host header names this machine's loopback interface. */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase();
  return LOOPBACK_HOSTNAMES.has(h) || /^127(\.\d{1,3}){3}$/.test(h) || h.endsWith(".localhost");
}

/** The hostname of a Host header (`example.org:4100` → `example.org`, `[::1]:80` → `[::1]`). */
function hostnameOf(hostHeader: string): string {
  if (hostHeader.startsWith("[")) return hostHeader.slice(0, hostHeader.indexOf("]") + 1);
  return hostHeader.split(":")[0] ?? "";
}

/** Compares secrets in constant time (hashing first makes the lengths equal). */
function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(createHash("sha256").update(a).digest(), createHash("sha256").update(b).digest());
}

function bearerOf(req: RequestFacts): string | null {
  const header = req.header("authorization");
  if (header !== null) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return m?.[1] ?? "";
  }
  // EventSource cannot set headers: a browser's live stream may carry the token in the query string.
  if (req.method === "GET") {
    const q = req.url.searchParams.get("token");
    if (q !== null) return q;
  }
  return null;
}

/**
 * Decides whether a request may proceed and as whom:
 * - with a token configured, every request needs `Authorization: Bearer <token>` (or a tenant
 *   or run token) → 401 otherwise;
 * - with tenant tokens but no admin token, a request without a token is refused (401), not admin;
 * - open (no token), only loopback Host names are served, so a web page cannot reach the API
 *   through DNS rebinding → 403;
 * - a browser write (POST with an Origin header) must come from the server's own origin → 403.
 */
export function authorize(config: AuthConfig, req: RequestFacts): AuthDecision {
  const token = config.token?.trim() ? config.token.trim() : null;
  const host = req.header("host");
  if (token === null && (host === null || !isLoopbackHost(hostnameOf(host)))) {
    return { ok: false, status: 403, message: "this server runs without a token and answers only loopback host names" };
  }
  const bearer = bearerOf(req);
  let tenant: string | null = null;
  let run: RunClaim | null = null;
  let hostCaller: HostCaller | null = null;
  if (bearer !== null) {
    if (isRunToken(bearer)) {
      run = config.runTokens?.verify(bearer) ?? null;
      if (run === null) return { ok: false, status: 401, message: "invalid token" };
    } else {
      let matched = token !== null && sameSecret(bearer, token);
      if (!matched) {
        // Check every tenant token, so the time taken says nothing about which one was close.
        for (const [candidate, t] of Object.entries(config.tenantTokens ?? {})) {
          // A tenant that is blank is no tenant: such an entry must never grant admin (null) access.
          if (sameSecret(bearer, candidate) && !matched && t.trim() !== "") {
            matched = true;
            tenant = t.trim();
          }
        }
        // Host tokens likewise, every one compared. The config reader drops a token listed as both
        // kinds; should one be passed in code anyway, it stays the tenant token it was first.
        for (const [candidate, grant] of Object.entries(config.hostTokens ?? {})) {
          if (sameSecret(bearer, candidate) && !matched) {
            matched = true;
            hostCaller = { name: grant.name, tenant: grant.tenant };
            tenant = grant.tenant;
          }
        }
      }
      if (!matched) return { ok: false, status: 401, message: "invalid token" };
    }
  } else if (token !== null) {
    return { ok: false, status: 401, message: "missing bearer token (Authorization: Bearer <token>)" };
  } else if (config.tenantTokensDeclared || Object.keys(config.tenantTokens ?? {}).length > 0) {
    return { ok: false, status: 401, message: NO_TOKEN_WITH_TENANTS };
  }
  if (req.method === "POST") {
    const origin = req.header("origin");
    if (origin !== null) {
      let originHost: string | null = null;
      try {
        originHost = new URL(origin).host;
      } catch {
        originHost = null;
      }
      if (originHost === null || host === null || originHost.toLowerCase() !== host.toLowerCase()) {
        return { ok: false, status: 403, message: "cross-origin write refused: Origin must match Host" };
      }
    }
  }
  return { ok: true, tenant, run, host: hostCaller };
}

export interface AuthSourceOptions {
  home: string;
  /** The admin token; fixed for the process's lifetime (it comes from the environment). */
  token?: string | null;
  /** Fixed tenant tokens (tests); default: `tenant_tokens` of `<home>/config.json`, reread on change. */
  tenantTokens?: Record<string, string>;
  /** Fixed host tokens, used with fixed `tenantTokens` (tests); default: `host_tokens` of `<home>/config.json`. */
  hostTokens?: Record<string, HostTokenGrant>;
  logger: Logger;
  /**
   * How often config.json is checked for changes, in ms. Default 0: one stat() per request (a few
   * microseconds), so a removed token is refused, and a new profile seen, by the very next request.
   */
  configCheckMs?: number;
}

export interface AuthSource {
  /** The auth configuration for this request: token edits in config.json apply without a restart. */
  current(): AuthConfig;
  /** The config.json reader, for the request context's settings (one reader per process). */
  readonly reader: HomeConfigReader;
}

/**
 * The live auth configuration of a server: the admin token from the environment, tenant tokens
 * from `config.json` (reread when the file changes; a broken edit keeps the last valid tokens) and
 * run tokens of this home. Logs, once per config version, its warnings and errors (which never
 * hold token text) and, when it applies, that requests without a token are refused.
 */
export function createAuthSource(opts: AuthSourceOptions): AuthSource {
  const token = opts.token?.trim() ? opts.token.trim() : null;
  const reader = homeConfigReader(opts.home, { minIntervalMs: opts.configCheckMs ?? 0 });
  const runTokens = runTokenVerifier(opts.home);
  let seenVersion: string | null = null;
  let saidNoTokenRefused = false;
  return {
    reader,
    current() {
      if (opts.tenantTokens !== undefined)
        return { token, tenantTokens: opts.tenantTokens, hostTokens: opts.hostTokens ?? {}, runTokens };
      const snap = reader.get();
      if (snap.version !== seenVersion) {
        seenVersion = snap.version;
        if (snap.error !== null)
          opts.logger.warn("config.json is invalid; the last valid tenant tokens stay in force", { error: snap.error });
        for (const w of snap.warnings) opts.logger.warn("config.json", { warning: w });
        const refused = token === null && snap.tenantTokensDeclared;
        if (refused && !saidNoTokenRefused) {
          opts.logger.warn(
            "tenant_tokens are configured and KANBAN_TOKEN is not set: requests without a token are refused (401); set KANBAN_TOKEN for admin access",
          );
        }
        saidNoTokenRefused = refused;
      }
      return {
        token,
        tenantTokens: snap.config.tenant_tokens,
        tenantTokensDeclared: snap.tenantTokensDeclared,
        runTokens,
        hostTokens: snap.config.host_tokens,
      };
    },
  };
}
