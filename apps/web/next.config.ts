import type { NextConfig } from "next";

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
  // Workspace packages export TypeScript source; Next compiles them with the app.
  transpilePackages: ["@kanban/api", "@kanban/kernel", "@kanban/db", "@kanban/contract"],
  // Native modules: loaded by Node at runtime, never bundled.
  serverExternalPackages: ["better-sqlite3", "fs-ext"],
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
