import { createHash } from "node:crypto";
import type { HomeConfig } from "@kanban/db";
import type { Board, Clock, NotifySub, NotifySubKey } from "@kanban/kernel";
import { type Channel, isChannelType, redact, type SendResult, sendNotification } from "@kanban/notify";
import { formatEvent, NOTIFY_EVENT_KINDS } from "./format.ts";

/** What the notifier is configured by (config.json's `kanban.notify_*`, `kanban.public_url`, `notify_channels`). */
export interface NotifierSettings {
  enabled: boolean;
  intervalSeconds: number;
  maxFailures: number;
  publicUrl: string | null;
  channels: Record<string, Channel>;
}

export function notifierSettings(config: HomeConfig): NotifierSettings {
  const k = config.kanban;
  const channels: Record<string, Channel> = {};
  for (const [name, c] of Object.entries(config.notify_channels)) channels[name] = { name, ...c };
  return {
    enabled: k.notify_enabled,
    intervalSeconds: k.notify_interval_seconds,
    maxFailures: k.notify_max_failures,
    publicUrl: k.public_url,
    channels,
  };
}

/** A board the notifier visits: its slug and how to open and put it back (the dispatcher's board set). */
export interface NotifierTarget {
  slug: string;
}

export interface NotifierDeps<T extends NotifierTarget> {
  targets: () => Promise<T[]>;
  open: (t: T) => Promise<Board>;
  done: (board: Board) => void;
  /** A board to leave alone this pass (quarantined). */
  skip?: (t: T) => boolean;
  settings: () => NotifierSettings;
  clock: Clock;
  log: (line: string) => void;
  warn: (line: string) => void;
  /** In [0, 1): the backoff's jitter (tests pin it). */
  random?: () => number;
  send?: typeof sendNotification;
}

/** The first network backoff, doubling up to {@link BACKOFF_MAX_SECONDS}. */
export const BACKOFF_BASE_SECONDS = 5;
export const BACKOFF_MAX_SECONDS = 300;
/** How often a board's delivery log is trimmed to its retention. */
const GC_INTERVAL_MS = 3600_000;

export interface NotifierReport {
  delivered: number;
  failed: number;
  network: number;
  dropped: number;
  unsubscribed: number;
  /** Subscriptions skipped because they are backing off from a network error. */
  backing_off: number;
}

const emptyReport = (): NotifierReport => ({
  delivered: 0,
  failed: 0,
  network: 0,
  dropped: 0,
  unsubscribed: 0,
  backing_off: 0,
});

function subLabel(s: NotifySubKey): string {
  return `${s.platform}:${s.chat_id}${s.thread_id ? `:${s.thread_id}` : ""}`;
}

/** `X-Kanban-Delivery`: the same for every attempt at one event for one subscription, so receivers can drop repeats. */
export function deliveryId(board: string, eventId: number, sub: NotifySubKey): string {
  const h = createHash("sha256")
    .update(`${sub.task_id}\0${sub.platform}\0${sub.chat_id}\0${sub.thread_id ?? ""}`)
    .digest("hex")
    .slice(0, 12);
  return `${board}.${eventId}.${h}`;
}

/**
 * Delivers notify subscriptions through the configured channels (spec §7.2, in our own code).
 *
 * Per pass and subscription with a channel: claim the unseen events of {@link NOTIFY_EVENT_KINDS}
 * (the kernel's compare-and-swap on the cursor, so two notifiers never claim the same event), send
 * one message per event in order, and on the first failure move the cursor back to just after the
 * last event delivered (so that event and those after it come again, and none before it). A network
 * error (no answer) backs the subscription off, 5 s doubling to 300 s, jittered, without counting;
 * an HTTP error counts, and after `maxFailures` in a row the subscription is dropped with a
 * `notify_dropped` event on the card. A subscription ends after its card's `archived` event is delivered.
 *
 * Platforms without a channel here (desktop, which the board's web client shows; tui; chat gateways)
 * are never touched: their cursors stay where they are for whoever delivers them.
 */
export class Notifier<T extends NotifierTarget> {
  private readonly backoff = new Map<string, { until: number; delaySeconds: number }>();
  private readonly lastGc = new Map<string, number>();
  private readonly warned = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;
  private stopping = false;
  private readonly send: typeof sendNotification;
  private readonly random: () => number;

  constructor(private readonly deps: NotifierDeps<T>) {
    this.send = deps.send ?? sendNotification;
    this.random = deps.random ?? Math.random;
  }

  /** One pass over every board. Never throws: a board that fails is warned about and the rest go on. */
  async tick(): Promise<NotifierReport> {
    const report = emptyReport();
    const settings = this.deps.settings();
    if (!settings.enabled) return report;
    // Nothing can be delivered without a channel: not even a board is opened.
    if (Object.keys(settings.channels).length === 0) return report;
    let targets: T[];
    try {
      targets = await this.deps.targets();
    } catch (err) {
      this.deps.warn(`notifier: cannot list boards: ${oneLine(err)}`);
      return report;
    }
    for (const t of targets) {
      if (this.stopping) break;
      if (this.deps.skip?.(t)) continue;
      let board: Board;
      try {
        board = await this.deps.open(t);
      } catch (err) {
        this.deps.warn(`notifier: board ${t.slug}: cannot open: ${oneLine(err)}`);
        continue;
      }
      try {
        await this.board(t.slug, board, settings, report);
      } catch (err) {
        this.deps.warn(`notifier: board ${t.slug}: ${scrub(oneLine(err), settings)}`);
      } finally {
        this.deps.done(board);
      }
    }
    return report;
  }

  private async board(slug: string, board: Board, s: NotifierSettings, report: NotifierReport): Promise<void> {
    const now = this.deps.clock.now();
    if (now - (this.lastGc.get(slug) ?? Number.NEGATIVE_INFINITY) >= GC_INTERVAL_MS) {
      this.lastGc.set(slug, now);
      await board.gcNotifyDeliveries();
    }
    for (const sub of await board.listNotifySubs(null)) {
      if (this.stopping) return;
      if (!isChannelType(sub.platform)) continue;
      // A wake-only subscription asks for no message; waking agents is a gateway's business.
      if (sub.delivery_mode === "wake") continue;
      const channel = s.channels[sub.chat_id];
      if (!channel || channel.type !== sub.platform) {
        this.warnOnce(
          `${slug}\0${sub.platform}\0${sub.chat_id}`,
          `notifier: board ${slug}: no ${sub.platform} channel named '${sub.chat_id}' in notify_channels; its subscriptions wait`,
        );
        continue;
      }
      await this.deliver(slug, board, sub, channel, s, report);
    }
  }

  private async deliver(
    slug: string,
    board: Board,
    sub: NotifySub,
    channel: Channel,
    s: NotifierSettings,
    report: NotifierReport,
  ): Promise<void> {
    const key: NotifySubKey = {
      task_id: sub.task_id,
      platform: sub.platform,
      chat_id: sub.chat_id,
      thread_id: sub.thread_id,
    };
    const bkey = `${slug}\0${sub.task_id}\0${subLabel(key)}`;
    const hold = this.backoff.get(bkey);
    if (hold && this.deps.clock.now() < hold.until) {
      report.backing_off++;
      return;
    }
    let claim: Awaited<ReturnType<Board["claimUnseenEventsForSub"]>>;
    try {
      claim = await board.claimUnseenEventsForSub(key, [...NOTIFY_EVENT_KINDS]);
    } catch (err) {
      // unsubscribed (or dropped by another notifier) since we listed it
      if ((err as { code?: string }).code === "NOT_FOUND") return;
      throw err;
    }
    if (claim.events.length === 0) return;
    const view = await board.getTask(sub.task_id);
    const task = {
      id: sub.task_id,
      title: view?.title ?? sub.task_id,
      status: view?.status ?? null,
      assignee: view?.assignee ?? null,
    };
    let deliveredTo = claim.old_cursor;
    let sawArchived = false;
    let failure: SendResult | null = null;
    let interrupted = false;
    for (const ev of claim.events) {
      // Stopping: what is not sent yet goes back to the cursor for the next notifier, uncounted.
      if (this.stopping) {
        interrupted = true;
        break;
      }
      const message = formatEvent({ board: slug, task, event: ev, publicUrl: s.publicUrl });
      const res = await this.send(channel, message, {
        deliveryId: deliveryId(slug, ev.id, key),
        timestampSeconds: Math.floor(this.deps.clock.now() / 1000),
      });
      await board.recordNotifyDelivery({
        ...key,
        event_id: ev.id,
        kind: ev.kind,
        outcome: res.outcome,
        http_status: res.status,
        error: res.error === null ? null : scrub(res.error, s),
        duration_ms: res.duration_ms,
      });
      if (res.outcome !== "delivered") {
        failure = res;
        break;
      }
      report.delivered++;
      deliveredTo = ev.id;
      if (ev.kind === "archived") sawArchived = true;
    }
    const label = `board ${slug}: ${sub.task_id} → ${subLabel(key)}`;
    if (interrupted) {
      await board.rewindNotifyCursor(key, claim.new_cursor, deliveredTo);
      return;
    }
    if (failure === null) {
      this.backoff.delete(bkey);
      if (sawArchived) {
        if (await board.removeNotifySub(key)) report.unsubscribed++;
        this.deps.log(`notifier: ${label}: card archived; subscription ended`);
      }
      return;
    }
    // Back to just after the last event that arrived: the failed one and those after it come again.
    if (!(await board.rewindNotifyCursor(key, claim.new_cursor, deliveredTo))) {
      this.deps.warn(
        `notifier: ${label}: the cursor moved while delivering (another notifier, or a re-subscribe); events after ${deliveredTo} are not retried`,
      );
    }
    const why = scrub(failure.error ?? "failed", s);
    if (failure.outcome === "network") {
      report.network++;
      const delaySeconds = Math.min(BACKOFF_MAX_SECONDS, hold ? hold.delaySeconds * 2 : BACKOFF_BASE_SECONDS);
      // ±20 %: subscriptions of one dead receiver do not all come back in the same instant.
      const jittered = delaySeconds * (0.8 + 0.4 * this.random());
      this.backoff.set(bkey, { until: this.deps.clock.now() + jittered * 1000, delaySeconds });
      this.deps.log(`notifier: ${label}: ${why}; retrying in ${Math.round(jittered)}s`);
      return;
    }
    report.failed++;
    this.backoff.delete(bkey);
    const streak = await board.notifyFailureStreak(key);
    if (streak.failures >= s.maxFailures) {
      if (await board.dropNotifySub(key, { failures: streak.failures, last_error: streak.last_error })) {
        report.dropped++;
        this.deps.warn(`notifier: ${label}: dropped after ${streak.failures} failed deliveries in a row (${why})`);
      }
      return;
    }
    this.deps.log(`notifier: ${label}: ${why} (${streak.failures}/${s.maxFailures} before dropping)`);
  }

  private warnOnce(key: string, line: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.deps.warn(line);
  }

  /** Runs {@link tick} every `intervalSeconds` (re-read each time) until {@link stop}; passes never overlap. */
  start(): void {
    if (this.timer !== null || this.stopping) return;
    const schedule = () => {
      if (this.stopping) return;
      const seconds = this.deps.settings().intervalSeconds;
      this.timer = setTimeout(() => {
        this.timer = null;
        this.running = this.tick()
          .catch((err: unknown) => this.deps.warn(`notifier: pass failed: ${oneLine(err)}`))
          .finally(() => {
            this.running = null;
            schedule();
          });
      }, seconds * 1000);
      // The dispatcher's own loop keeps the process alive; this timer must never be what does.
      this.timer.unref();
    };
    schedule();
  }

  /** Stops the loop; resolves once a pass under way has finished. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }
}

function oneLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.replace(/\s+/g, " ").trim();
}

/** Removes every configured channel's URL and secret from a line (belt and braces: the senders already do). */
function scrub(text: string, s: NotifierSettings): string {
  let out = text;
  for (const c of Object.values(s.channels)) out = redact(out, c);
  return out;
}
