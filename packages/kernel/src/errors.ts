import { KanbanError } from "@kanban/db";

/**
 * The kernel's typed errors. Every refusal the kernel makes is a `KernelError` with a stable code,
 * so the API maps it to one tRPC code and the CLI to one exit code; messages follow Hermes' texts.
 *
 * | code             | meaning                                                    | tRPC / HTTP              |
 * |------------------|------------------------------------------------------------|--------------------------|
 * | NOT_FOUND        | unknown task, run or board                                 | NOT_FOUND 404            |
 * | INVALID_INPUT    | a value the kernel cannot accept                           | BAD_REQUEST 400          |
 * | WRONG_STATE      | the task is not in a state that allows this, or lost a race| CONFLICT 409             |
 * | STALE_RUN        | a fenced worker call names a run that is no longer current | CONFLICT 409             |
 * | HALLUCINATED_CARDS | completion claimed cards that do not exist / not ours    | PRECONDITION_FAILED 412  |
 * | WORKSPACE_PATH_NOT_ALLOWED | a caller-chosen scratch path, or a dir/worktree path outside the allowed roots | BAD_REQUEST 400 |
 */
export const KERNEL_ERROR_CODES = [
  "NOT_FOUND",
  "INVALID_INPUT",
  "WRONG_STATE",
  "STALE_RUN",
  "HALLUCINATED_CARDS",
  "WORKSPACE_PATH_NOT_ALLOWED",
] as const;
export type KernelErrorCode = (typeof KERNEL_ERROR_CODES)[number];

export class KernelError extends KanbanError<KernelErrorCode> {
  override readonly name: string = "KernelError";
}

export function notFound(message: string, details: Record<string, unknown> = {}): KernelError {
  return new KernelError("NOT_FOUND", message, details);
}
export function invalid(message: string, details: Record<string, unknown> = {}): KernelError {
  return new KernelError("INVALID_INPUT", message, details);
}
export function wrongState(message: string, details: Record<string, unknown> = {}): KernelError {
  return new KernelError("WRONG_STATE", message, details);
}

/**
 * A completion named `created_cards` that do not exist or were not created by the completing
 * worker. The task is untouched; the worker may retry without those ids.
 */
export class HallucinatedCardsError extends KernelError {
  override readonly name = "HallucinatedCardsError";
  readonly phantom: string[];
  readonly completingTaskId: string;
  constructor(phantom: string[], completingTaskId: string) {
    super(
      "HALLUCINATED_CARDS",
      `completion blocked: claimed created_cards that do not exist or were not created by this worker: ${phantom.join(", ")}`,
      { phantom, task_id: completingTaskId },
    );
    this.phantom = phantom;
    this.completingTaskId = completingTaskId;
  }
}
