import { homeConfigReader } from "@kanban/db";
import type { Board, Clock } from "@kanban/kernel";
import { Notifier, notifierSettings } from "./notifier.ts";

export { formatEvent, NEEDS_YOU_KINDS, NOTIFY_EVENT_KINDS } from "./format.ts";
export {
  BACKOFF_BASE_SECONDS,
  BACKOFF_MAX_SECONDS,
  deliveryId,
  Notifier,
  type NotifierDeps,
  type NotifierReport,
  type NotifierSettings,
  notifierSettings,
} from "./notifier.ts";

/** What the dispatcher lends its notifier: its boards, its clock and its log. */
export interface DispatcherNotifierDeps<T extends { slug: string }> {
  home: string;
  targets: () => Promise<T[]>;
  boards: { open(t: T): Promise<Board>; done(board: Board): void };
  skip: (t: T) => boolean;
  clock: Clock;
  log: (line: string) => void;
  warn: (line: string) => void;
}

/**
 * The dispatcher's notifier, started: it reads `kanban.notify_*` and `notify_channels` from the
 * home's config.json at every pass (an edit applies without a restart; an invalid edit keeps the
 * last valid settings), on its own timer beside the dispatch loop. Stop it with `stop()`.
 */
export function startDispatcherNotifier<T extends { slug: string }>(d: DispatcherNotifierDeps<T>): Notifier<T> {
  const reader = homeConfigReader(d.home);
  const notifier = new Notifier<T>({
    targets: d.targets,
    open: (t) => d.boards.open(t),
    done: (b) => d.boards.done(b),
    skip: d.skip,
    settings: () => notifierSettings(reader.get().config),
    clock: d.clock,
    log: d.log,
    warn: d.warn,
  });
  notifier.start();
  return notifier;
}
