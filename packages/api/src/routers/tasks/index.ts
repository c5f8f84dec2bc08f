import { router } from "../../trpc.ts";
import { archiveProcedure } from "./archive.ts";
import { bulkProcedure } from "./bulk.ts";
import { cancelProcedure } from "./cancel.ts";
import { claimProcedure } from "./claim.ts";
import { completeProcedure } from "./complete.ts";
import { contextProcedure } from "./context.ts";
import { createProcedure } from "./create.ts";
import { deleteProcedure } from "./delete.ts";
import { editResultProcedure } from "./edit-result.ts";
import { getProcedure } from "./get.ts";
import { heartbeatProcedure } from "./heartbeat.ts";
import { listProcedure } from "./list.ts";
import { logProcedure } from "./log.ts";
import { blockProcedure, scheduleProcedure } from "./park.ts";
import { patchProcedure } from "./patch.ts";
import { promoteProcedure } from "./promote.ts";
import { reassignProcedure } from "./reassign.ts";
import { reclaimProcedure } from "./reclaim.ts";
import { recomputeProcedure } from "./recompute.ts";
import { reopenReviewProcedure, requestChangesProcedure, requestReviewProcedure } from "./review.ts";
import { unblockProcedure } from "./unblock.ts";
import { whyProcedure } from "./why.ts";

/** `tasks.*`: one file per procedure, named for its key (block and schedule share park.ts). */
export const tasksRouter = router({
  get: getProcedure,
  list: listProcedure,
  create: createProcedure,
  patch: patchProcedure,
  delete: deleteProcedure,
  bulk: bulkProcedure,
  claim: claimProcedure,
  heartbeat: heartbeatProcedure,
  complete: completeProcedure,
  block: blockProcedure,
  schedule: scheduleProcedure,
  unblock: unblockProcedure,
  promote: promoteProcedure,
  archive: archiveProcedure,
  editResult: editResultProcedure,
  reclaim: reclaimProcedure,
  cancel: cancelProcedure,
  reassign: reassignProcedure,
  context: contextProcedure,
  log: logProcedure,
  recompute: recomputeProcedure,
  why: whyProcedure,
  requestReview: requestReviewProcedure,
  requestChanges: requestChangesProcedure,
  reopenReview: reopenReviewProcedure,
});
