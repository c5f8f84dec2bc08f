import { randomBytes } from "node:crypto";

/** Source of new task ids, injectable so tests can force collisions or fixed ids. */
export interface IdSource {
  taskId(): string;
}

/** `t_` + 8 lowercase hex (4 random bytes), Hermes' format. */
export const randomIds: IdSource = { taskId: () => `t_${randomBytes(4).toString("hex")}` };
