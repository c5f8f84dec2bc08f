import { KernelError } from "@kanban/kernel";

/** What a refusal means to its caller: the API turns `code` into a tRPC code, the dispatcher `permanent` into a block. */
export interface WorkspaceErrorOptions {
  /**
   * Retrying cannot help (a path outside the allowed roots, a symlink planted at a scratch path):
   * the dispatcher blocks the task at once instead of counting a spawn failure.
   */
  permanent?: boolean;
  /** WORKSPACE_PATH_NOT_ALLOWED (400) for a path the caller may not use; WRONG_STATE (409) otherwise. */
  code?: "WORKSPACE_PATH_NOT_ALLOWED" | "WRONG_STATE";
  /**
   * The same sentence without a path the server chose (a scratch directory, the board's default
   * workdir, git's own output about it), for a caller who is not the operator. Defaults to the message.
   */
  safeMessage?: string;
  details?: Record<string, unknown>;
}

/**
 * Why a claimed task's workspace could not be materialised, in one line. A KernelError, so the API
 * maps its code like any other refusal (400 or 409, never a 500).
 */
export class WorkspaceError extends KernelError {
  override readonly name = "WorkspaceError";
  readonly permanent: boolean;
  readonly safeMessage: string;

  constructor(message: string, opts: WorkspaceErrorOptions = {}) {
    super(opts.code ?? "WRONG_STATE", message, opts.details ?? {});
    this.permanent = opts.permanent ?? false;
    this.safeMessage = opts.safeMessage ?? message;
  }

  /** The message for a caller: the full one for the operator, else the one without server paths. */
  messageFor(revealPaths: boolean): string {
    return revealPaths ? this.message : this.safeMessage;
  }
}
