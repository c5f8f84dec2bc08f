import path from "node:path";
import { fileURLToPath } from "node:url";
import { bundledScript } from "@kanban/db/testing-scripts";

// Every test file: the kernel bundle the fake workers load (fake-kernel.mjs), built once per run
// (cached in node_modules/.cache, rebuilt when a kernel source changes).
process.env.FAKE_KERNEL_BUNDLE ??= await bundledScript({
  code: 'export * from "@kanban/kernel";',
  resolveDir: path.dirname(fileURLToPath(import.meta.url)),
});
