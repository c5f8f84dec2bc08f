export { type CopyRow, type CopyValue, DigestBuilder, encodeRow, type TableDigest } from "./canonical.ts";
export {
  type CopyBoardOptions,
  type CopyBoardReport,
  type CopyTableReport,
  copyBoard,
  type VerifyBoardsOptions,
  type VerifyBoardsReport,
  verifyBoards,
} from "./copy-board.ts";
export { type CopyEndpoint, parseCopyEndpoint } from "./endpoint.ts";
export { COPY_ERROR_CODES, type CopyErrorCode, KanbanCopyError } from "./errors.ts";
export { COPY_TABLES, type CopyTable, isDerivedTable } from "./tables.ts";
