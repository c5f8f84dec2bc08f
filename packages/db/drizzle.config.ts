import { defineConfig } from "drizzle-kit";

// drizzle-kit reads the schema and writes SQL migrations into ./drizzle. Generated files are
// committed and never edited by hand (see README: "Changing the schema").
export default defineConfig({
  dialect: "sqlite",
  schema: "./src/schema/index.ts",
  out: "./drizzle",
});
