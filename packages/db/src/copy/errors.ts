import { KanbanError } from "../errors.ts";

export const COPY_ERROR_CODES = [
  /** `<from>` or `<to>` names no usable board: a bad slug or path, a PostgreSQL URL without a board. */
  "COPY_ENDPOINT_INVALID",
  /** `<from>` and `<to>` are the same board. */
  "COPY_SAME_BOARD",
  /** The target already holds rows and `--replace` was not given; the target was not touched. */
  "COPY_TARGET_NOT_EMPTY",
  /**
   * The source holds something the target cannot store exactly (a table or column our schema does
   * not know with data in it; on PostgreSQL, text with a NUL character or a non-integer value in an
   * INTEGER column). Nothing was written: a copy never loses data silently.
   */
  "COPY_UNSUPPORTED",
  /**
   * The rows written did not read back identical inside the copy's own transaction (a conversion the
   * target engine made); the transaction was rolled back and the target left as it was.
   */
  "COPY_VERIFY_FAILED",
] as const;

export type CopyErrorCode = (typeof COPY_ERROR_CODES)[number];

/** A refusal of `kanban db copy`, with a stable code and one readable line. */
export class KanbanCopyError extends KanbanError<CopyErrorCode> {
  override readonly name = "KanbanCopyError";
}
