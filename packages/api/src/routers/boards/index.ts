import { router } from "../../trpc.ts";
import { createProcedure } from "./create.ts";
import { listProcedure } from "./list.ts";
import { removeProcedure } from "./remove.ts";
import { switchProcedure } from "./switch.ts";
import { updateProcedure } from "./update.ts";

/** `boards.*`: one file per procedure, named for its key; board administration is admin-only. */
export const boardsRouter = router({
  list: listProcedure,
  create: createProcedure,
  update: updateProcedure,
  remove: removeProcedure,
  switch: switchProcedure,
});
