import { createHash, timingSafeEqual } from "node:crypto";

/** Who may call, as configured: one admin token and tenant-scoped tokens (token → tenant). */
export interface AuthConfig {
  /** The admin token (`KANBAN_TOKEN`). Unset = open, which only a loopback binding allows. */
  token?: string | null;
  /** Tenant-scoped tokens: every read and write of their holder is confined to that tenant. */
  tenantTokens?: Record<string, string>;
}

export interface RequestFacts {
  method: string;
  /** Header lookup, case-insensitive, null when absent. */
  header(name: string): string | null;
  url: URL;
}

export type AuthDecision = { ok: true; tenant: string | null } | { ok: false; status: 401 | 403; message: string };

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
 *   token) → 401 otherwise;
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
  if (bearer !== null) {
    let matched = token !== null && sameSecret(bearer, token);
    if (!matched) {
      // Check every tenant token, so the time taken says nothing about which one was close.
      for (const [candidate, t] of Object.entries(config.tenantTokens ?? {})) {
        if (sameSecret(bearer, candidate) && !matched) {
          matched = true;
          tenant = t;
        }
      }
    }
    if (!matched) return { ok: false, status: 401, message: "invalid token" };
  } else if (token !== null) {
    return { ok: false, status: 401, message: "missing bearer token (Authorization: Bearer <token>)" };
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
  return { ok: true, tenant };
}
