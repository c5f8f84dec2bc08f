import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import { boardRouter } from "./routers/board.ts";
import { boardsRouter } from "./routers/boards/index.ts";
import { configRouter } from "./routers/config.ts";
import { commentsRouter } from "./routers/comments.ts";
import { diagnosticsRouter } from "./routers/diagnostics.ts";
import { dispatcherRouter } from "./routers/dispatcher.ts";
import { eventsRouter } from "./routers/events.ts";
import { hostsRouter } from "./routers/hosts/index.ts";
import { incidentsRouter } from "./routers/incidents.ts";
import { linksRouter } from "./routers/links.ts";
import { maintenanceRouter } from "./routers/maintenance.ts";
import { notifyRouter } from "./routers/notify.ts";
import { notifyDeliveryRouter } from "./routers/notify-delivery.ts";
import { runsRouter } from "./routers/runs.ts";
import { workersRouter } from "./routers/workers.ts";
import { statsRouter } from "./routers/stats.ts";
import { assigneesRouter } from "./routers/assignees.ts";
import { profilesRouter } from "./routers/profiles.ts";
import { tasksRouter } from "./routers/tasks/index.ts";
import { usageRouter } from "./routers/usage.ts";
import { budgetsRouter } from "./routers/budgets.ts";
import { gatesRouter } from "./routers/gates.ts";
import { viewsRouter } from "./routers/views.ts";
import { createCallerFactory, router } from "./trpc.ts";

/** Every procedure, grouped by resource. */
export const appRouter = router({
  board: boardRouter,
  tasks: tasksRouter,
  comments: commentsRouter,
  links: linksRouter,
  runs: runsRouter,
  workers: workersRouter,
  boards: boardsRouter,
  stats: statsRouter,
  assignees: assigneesRouter,
  profiles: profilesRouter,
  dispatcher: dispatcherRouter,
  notify: notifyRouter,
  notifyDelivery: notifyDeliveryRouter,
  diagnostics: diagnosticsRouter,
  config: configRouter,
  events: eventsRouter,
  maintenance: maintenanceRouter,
  hosts: hostsRouter,
  incidents: incidentsRouter,
  usage: usageRouter,
  budgets: budgetsRouter,
  gates: gatesRouter,
  views: viewsRouter,
});

export type AppRouter = typeof appRouter;
export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;

/** In-process calls (tests, the CLI's local mode): `createCaller(createContextInner({ location }))`. */
export const createCaller = createCallerFactory(appRouter);
