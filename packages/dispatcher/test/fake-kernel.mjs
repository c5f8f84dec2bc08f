// How the fake workers load @kanban/kernel. The dispatcher's test setup (test/setup.ts) sets
// FAKE_KERNEL_BUNDLE to an ES module bundle of the kernel, which plain node loads in ~0.2 CPU-s; the
// dispatchers the tests start pass it on to their workers with the rest of their environment. A fake
// worker started without it (by hand, or by another package's tests) loads the kernel's sources
// through tsx, as before: ~1.8 CPU-s a start, hundreds of starts in one run of the suite.
import { pathToFileURL } from "node:url";

export async function loadKernel() {
  const bundle = process.env.FAKE_KERNEL_BUNDLE;
  if (bundle) return await import(pathToFileURL(bundle).href);
  const { register } = await import("tsx/esm/api");
  register();
  return await import("@kanban/kernel");
}
