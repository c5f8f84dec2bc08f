import { GATE_SCOPES } from "@kanban/kernel";
import { z } from "zod";
import { boardProcedure, router, taskProcedure } from "../trpc.ts";

/** A gate spec's scope and key; the board's needs no key (it is always `*`). */
const scopeFields = {
  scope: z.enum(GATE_SCOPES),
  key: z.string().trim().max(200).nullish(),
};

// The spec itself is checked by the kernel (parseGateSpec), which words each fault for a person; the
// wire only bounds its size.
const specSchema = z.record(z.string().max(40), z.unknown());

/**
 * Completion gates (issue 20). A tenant sets, clears and lists the gates of its own cards; the
 * board's and the profiles' defaults are the operator's. A worker's run token reads only its own
 * card's gates and evidence (`gates.card`), so it knows what its completion will be judged by.
 */
export const gatesRouter = router({
  /** Every gate spec the caller sees. */
  list: boardProcedure.query(async ({ ctx }) => {
    return { gates: await ctx.board.listGates() };
  }),

  /** Puts gates on a card, a profile or the board; on a card an empty spec opts it out of the defaults. */
  set: boardProcedure.input(z.object({ ...scopeFields, spec: specSchema })).mutation(async ({ ctx, input }) => {
    return { gates: await ctx.board.setGates(input.scope, input.key ?? "", input.spec) };
  }),

  /** Removes a gate spec; `removed` false when there was none. */
  clear: boardProcedure.input(z.object(scopeFields)).mutation(async ({ ctx, input }) => {
    return { removed: await ctx.board.clearGates(input.scope, input.key ?? "") };
  }),

  /** A card's gates (and where they come from), its round under test and the evidence of its latest rounds. */
  card: taskProcedure
    .input(z.object({ rounds: z.number().int().min(1).max(50).nullish() }))
    .query(async ({ ctx, input }) => {
      return await ctx.board.cardGates(input.id, { rounds: input.rounds ?? undefined });
    }),
});
