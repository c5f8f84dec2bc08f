import { router } from "../../trpc.ts";
import { claimProcedure } from "./claim.ts";
import { heartbeatProcedure } from "./heartbeat.ts";
import { helloProcedure } from "./hello.ts";
import { listProcedure } from "./list.ts";
import { exitedProcedure, spawnedProcedure, stoppedProcedure } from "./reports.ts";

/**
 * `hosts.*`: remote dispatchers (`kanban-dispatcher --server`) claim, renew and report through the
 * first six with a host token, and only those; `list` is for people (admin and tenant tokens).
 */
export const hostsRouter = router({
  hello: helloProcedure,
  heartbeat: heartbeatProcedure,
  claim: claimProcedure,
  spawned: spawnedProcedure,
  exited: exitedProcedure,
  stopped: stoppedProcedure,
  list: listProcedure,
});
