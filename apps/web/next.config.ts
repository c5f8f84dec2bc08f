import fs from "node:fs";
import path from "node:path";
import type { NextConfig } from "next";

/**
 * Where each workspace package's sources are. Their "exports" lead a consumer to the built dist/
 * unless the "@kanban/source" condition is set (scripts/build-conditions.mjs); Turbopack takes no
 * custom conditions, so the board aliases every such entry to its source file and builds without
 * the packages having been built (and never from a stale dist/).
 */
function workspaceSourceAliases(): Record<string, string> {
  const packagesDir = path.resolve(process.cwd(), "..", "..", "packages");
  const aliases: Record<string, string> = {};
  for (const dir of fs.readdirSync(packagesDir)) {
    const manifest = path.join(packagesDir, dir, "package.json");
    if (!fs.existsSync(manifest)) continue;
    const pkg = JSON.parse(fs.readFileSync(manifest, "utf8")) as { name: string; exports?: Record<string, unknown> };
    for (const [subpath, target] of Object.entries(pkg.exports ?? {})) {
      const source = typeof target === "object" && target !== null ? Reflect.get(target, "@kanban/source") : null;
      if (typeof source !== "string") continue;
      // Relative to the app's directory: Turbopack reads an absolute path as relative to its root.
      aliases[pkg.name + subpath.slice(1)] = `./${path.relative(process.cwd(), path.join(packagesDir, dir, source))}`;
    }
  }
  return aliases;
}

/**
 * The board's content security policy. Everything it loads comes from its own origin (scripts,
 * styles, the self-hosted Inter font, the API at /api/trpc and its live stream). Next's production
 * pages carry inline bootstrap scripts and React renders inline `style` attributes, so both need
 * 'unsafe-inline' (nonces would force every page to render per request); the dev server also
 * evaluates code ('unsafe-eval'). Nobody may frame the board (clickjacking), and it sends no referrer.
 * Images in card bodies are limited to the board's own origin and data: URLs, so a card cannot make
 * every viewer's browser call out to a tracking server.
 */
function contentSecurityPolicy(dev: boolean): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'unsafe-inline'${dev ? " 'unsafe-eval'" : ""}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    `connect-src 'self'${dev ? " ws: wss:" : ""}`,
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

const config: NextConfig = {
  // `npm start` and `kanban start` run the board from the standalone server (server.js with only the
  // files it needs traced beside it; scripts/build-runtime.mjs), which also ships in the packed CLI.
  output: "standalone",
  // scripts/build-runtime.mjs builds into a directory of its own (KANBAN_NEXT_DIST_DIR), so it never
  // races `next dev` or the e2e suite's build over .next.
  distDir: process.env.KANBAN_NEXT_DIST_DIR || ".next",
  // The monorepo's root: the traced node_modules (better-sqlite3's binary) live there.
  outputFileTracingRoot: path.resolve(process.cwd(), "..", ".."),
  // Workspace packages export TypeScript source; Next compiles them with the app.
  transpilePackages: ["@kanban/api", "@kanban/kernel", "@kanban/db", "@kanban/contract"],
  // Native modules: loaded by Node at runtime, never bundled.
  serverExternalPackages: ["better-sqlite3", "fs-ext"],
  // The board shows no next/image, so its server never optimizes an image: the runtime's build leaves
  // the optimizer's library (sharp with libvips, ~19 MB of native code) out (scripts/build-runtime.mjs).
  images: { unoptimized: true },
  turbopack: { resolveAlias: workspaceSourceAliases() },
  // `npm test` type-checks the board with the same tsconfig (scripts/typecheck.mjs, after `next
  // typegen`) before it builds it, and then says so: the build's own check of the same files was a
  // second one (~30 CPU-s of a 2-core CI run). Any other build checks its types as usual.
  typescript: { ignoreBuildErrors: process.env.KANBAN_WEB_TYPES_CHECKED === "1" },
  poweredByHeader: false,
  reactStrictMode: true,
  // Every response, pages and the API route alike.
  async headers() {
    const dev = process.env.NODE_ENV !== "production";
    return [
      {
        source: "/:path*",
        headers: [
          { key: "Content-Security-Policy", value: contentSecurityPolicy(dev) },
          { key: "X-Frame-Options", value: "DENY" },
          { key: "X-Content-Type-Options", value: "nosniff" },
          { key: "Referrer-Policy", value: "no-referrer" },
        ],
      },
    ];
  },
};

export default config;
