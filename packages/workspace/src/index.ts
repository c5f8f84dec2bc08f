export { cleanupScratch } from "./cleanup.ts";
export { type ResolvedWorkspace, scratchPath, type WorkspaceContext } from "./context.ts";
export { WorkspaceError, type WorkspaceErrorOptions } from "./errors.ts";
export { isStrictDescendant } from "./paths.ts";
export { resolveWorkspace } from "./resolve.ts";
export { allowedRootsFor } from "./roots.ts";
