import { defineConfig } from "drizzle-kit";

// The PostgreSQL twin of drizzle.config.ts: drizzle-kit reads src/schema-pg and writes SQL migrations
// into ./drizzle-pg (`npm run db:generate:pg`). The tables are declared without a schema: the migrator
// runs with search_path set to one board's schema, so the same files create every board.
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/schema-pg/index.ts",
  out: "./drizzle-pg",
});
