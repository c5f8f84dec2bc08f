import { createFetchHandler } from "@kanban/api";
import { loadEnv } from "../../../../env.ts";

// better-sqlite3 is a native module and the board changes under us: Node runtime, never cached.
export const runtime = "nodejs";
export const dynamic = "force-dynamic";

const env = loadEnv();

/** The same router `kanban serve` mounts, with its auth, origin and body-size checks. */
const handler = createFetchHandler({
  endpoint: "/api/trpc",
  location: env.location,
  token: env.token,
  migrationsFolder: env.migrationsFolder,
});

export { handler as GET, handler as POST };
