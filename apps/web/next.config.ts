import type { NextConfig } from "next";

const config: NextConfig = {
  // Workspace packages export TypeScript source; Next compiles them with the app.
  transpilePackages: ["@kanban/api", "@kanban/kernel", "@kanban/db"],
  // A native module: loaded by Node at runtime, never bundled.
  serverExternalPackages: ["better-sqlite3"],
  poweredByHeader: false,
  reactStrictMode: true,
};

export default config;
