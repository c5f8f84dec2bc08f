"use client";

import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useRef, useState } from "react";
import {
  DESKTOP_CHAT,
  DESKTOP_PLATFORM,
  ensureNotificationPermission,
  NOTIFY_PLATFORMS,
} from "../lib/desktop-notify.ts";
import { useCloseOnOutsideClick } from "../hooks/use-close-on-outside-click.ts";
import { errorMessage, useTRPC, useTRPCClient } from "../trpc/react.tsx";
import type { DrawerContext } from "./drawer-sections.tsx";
import { XIcon } from "./icons.tsx";
import { useToasts } from "./toasts.tsx";
import { Button, Input, SectionTitle, Select } from "./ui.tsx";

type Platform = (typeof NOTIFY_PLATFORMS)[number];

/** How a destination reads: "This browser" for desktop, else `slack #ops`. */
function destination(platform: string, chat: string, thread?: string | null): string {
  if (platform === DESKTOP_PLATFORM) return "This browser (desktop)";
  return `${platform} ${chat}${thread ? ` / ${thread}` : ""}`;
}

/** Asks for the notifications permission when a desktop subscription is made; says so when it is refused. */
function usePermissionPrompt() {
  const toasts = useToasts();
  return async (platform: string) => {
    if (platform !== DESKTOP_PLATFORM) return;
    const answer = await ensureNotificationPermission();
    if (answer === "denied" || answer === "unsupported") {
      toasts.push({
        kind: "warning",
        title: "Desktop notifications are off",
        body:
          answer === "denied"
            ? "This browser refused notifications for the board; allow them in the site settings."
            : "This browser cannot show notifications.",
      });
    }
  };
}

/** Platform select and chat field; desktop needs no chat (it is this browser). */
function DestinationFields(p: {
  platform: Platform;
  chat: string;
  onPlatform: (v: Platform) => void;
  onChat: (v: string) => void;
  testPrefix: string;
}) {
  return (
    <>
      <Select
        aria-label="Platform"
        data-testid={`${p.testPrefix}-platform`}
        className="w-28"
        value={p.platform}
        onChange={(e) => p.onPlatform(e.target.value as Platform)}
      >
        {NOTIFY_PLATFORMS.map((x) => (
          <option key={x} value={x}>
            {x}
          </option>
        ))}
      </Select>
      {p.platform !== DESKTOP_PLATFORM && (
        <Input
          aria-label="Channel"
          data-testid={`${p.testPrefix}-chat`}
          placeholder="channel name (config.json)"
          className="min-w-0 flex-1"
          value={p.chat}
          onChange={(e) => p.onChat(e.target.value)}
        />
      )}
    </>
  );
}

/** The drawer's "Notifications": the card's subscriptions, each removable, and a form to add one. */
export function NotificationsSection({ ctx }: { ctx: DrawerContext }) {
  const trpc = useTRPC();
  const client = useTRPCClient();
  const queryClient = useQueryClient();
  const toasts = useToasts();
  const askPermission = usePermissionPrompt();
  const subs = useQuery(trpc.notify.list.queryOptions({ board: ctx.board, task_id: ctx.id }));
  const [platform, setPlatform] = useState<Platform>(DESKTOP_PLATFORM);
  const [chat, setChat] = useState("");
  const [busy, setBusy] = useState(false);
  const reload = () => queryClient.invalidateQueries(trpc.notify.list.pathFilter());

  const add = async () => {
    const chatId = platform === DESKTOP_PLATFORM ? DESKTOP_CHAT : chat.trim();
    if (!chatId) {
      toasts.push({
        kind: "warning",
        title: "Name a channel",
        body: "A channel of config.json receives the messages.",
      });
      return;
    }
    setBusy(true);
    try {
      await askPermission(platform);
      await client.notify.subscribe.mutate({ board: ctx.board, task_id: ctx.id, platform, chat_id: chatId });
      setChat("");
      await reload();
    } catch (err) {
      toasts.push({ kind: "error", title: "Subscription not added", body: errorMessage(err) });
    } finally {
      setBusy(false);
    }
  };
  const remove = async (s: { platform: string; chat_id: string; thread_id: string }) => {
    try {
      await client.notify.unsubscribe.mutate({
        board: ctx.board,
        task_id: ctx.id,
        platform: s.platform,
        chat_id: s.chat_id,
        thread_id: s.thread_id,
      });
      await reload();
    } catch (err) {
      toasts.push({ kind: "error", title: "Subscription not removed", body: errorMessage(err) });
    }
  };

  const list = subs.data?.subscriptions ?? [];
  return (
    <section data-testid="notifications">
      <SectionTitle>Notifications</SectionTitle>
      {list.length === 0 ? (
        <p className="text-faint text-xs">Nobody is notified about this card.</p>
      ) : (
        <ul className="space-y-1">
          {list.map((s) => (
            <li
              key={`${s.platform}:${s.chat_id}:${s.thread_id}`}
              data-testid={`notify-sub-${s.platform}`}
              className="flex items-center gap-2 rounded-md border border-line bg-panel px-2 py-1 text-xs"
            >
              <span className="flex-1 truncate">{destination(s.platform, s.chat_id, s.thread_id)}</span>
              <button
                type="button"
                aria-label={`Stop notifying ${destination(s.platform, s.chat_id, s.thread_id)}`}
                data-testid={`notify-sub-remove-${s.platform}`}
                className="rounded p-0.5 text-faint hover:bg-hover hover:text-fg"
                onClick={() => void remove(s)}
              >
                <XIcon />
              </button>
            </li>
          ))}
        </ul>
      )}
      <div className="mt-2 flex items-center gap-1.5">
        <DestinationFields
          platform={platform}
          chat={chat}
          onPlatform={setPlatform}
          onChat={setChat}
          testPrefix="notify-add"
        />
        <Button size="sm" data-testid="notify-add" disabled={busy} onClick={() => void add()}>
          Notify
        </Button>
      </div>
    </section>
  );
}

const BellIcon = () => (
  <svg aria-hidden width="14" height="14" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="2">
    <path d="M6 8a6 6 0 1 1 12 0c0 7 3 9 3 9H3s3-2 3-9" />
    <path d="M10.3 21a1.94 1.94 0 0 0 3.4 0" />
  </svg>
);

/**
 * The toolbar's bell: the board's subscription rules (every new card, or each card of one assignee),
 * each removable, and a form to add one.
 */
export function NotificationBell({ board, assignees }: { board: string | undefined; assignees: string[] }) {
  const trpc = useTRPC();
  const client = useTRPCClient();
  const queryClient = useQueryClient();
  const toasts = useToasts();
  const askPermission = usePermissionPrompt();
  const [open, setOpen] = useState(false);
  const [scope, setScope] = useState<string>("board");
  const [platform, setPlatform] = useState<Platform>(DESKTOP_PLATFORM);
  const [chat, setChat] = useState("");
  const [busy, setBusy] = useState(false);
  const ref = useRef<HTMLDivElement>(null);
  const rules = useQuery({ ...trpc.notify.rules.queryOptions({ board }), enabled: open, retry: false });
  useCloseOnOutsideClick(ref, open, setOpen);
  const reload = () =>
    Promise.all([
      queryClient.invalidateQueries(trpc.notify.rules.pathFilter()),
      queryClient.invalidateQueries(trpc.notify.list.pathFilter()),
    ]);

  const add = async () => {
    const chatId = platform === DESKTOP_PLATFORM ? DESKTOP_CHAT : chat.trim();
    if (!chatId) {
      toasts.push({
        kind: "warning",
        title: "Name a channel",
        body: "A channel of config.json receives the messages.",
      });
      return;
    }
    const assignee = scope.startsWith("assignee:") ? scope.slice("assignee:".length) : null;
    setBusy(true);
    try {
      await askPermission(platform);
      await client.notify.addRule.mutate({
        board,
        scope: assignee === null ? "board" : "assignee",
        scope_key: assignee,
        platform,
        chat_id: chatId,
      });
      setChat("");
      await reload();
    } catch (err) {
      toasts.push({ kind: "error", title: "Rule not added", body: errorMessage(err) });
    } finally {
      setBusy(false);
    }
  };
  const remove = async (id: number) => {
    try {
      await client.notify.removeRule.mutate({ board, rule_id: id });
      await reload();
    } catch (err) {
      toasts.push({ kind: "error", title: "Rule not removed", body: errorMessage(err) });
    }
  };

  return (
    <div ref={ref} className="relative">
      <Button
        variant="ghost"
        aria-haspopup="dialog"
        aria-expanded={open}
        aria-label="Notifications"
        title="Notifications: who hears about new cards"
        data-testid="notify-bell"
        onClick={() => setOpen(!open)}
      >
        <BellIcon />
      </Button>
      {open && (
        <div
          role="dialog"
          aria-label="Notification rules"
          data-testid="notify-menu"
          tabIndex={-1}
          className="absolute top-8 right-0 z-30 w-96 space-y-2 rounded-lg border border-line bg-panel p-2 shadow-pop"
          onKeyDown={(e) => {
            if (e.key === "Escape") {
              e.stopPropagation();
              setOpen(false);
            }
          }}
        >
          <SectionTitle>Notify about new cards</SectionTitle>
          {rules.error && <p className="text-danger text-xs">{errorMessage(rules.error)}</p>}
          {rules.data && rules.data.rules.length === 0 && (
            <p className="text-faint text-xs">No rules: only cards subscribed one by one notify anyone.</p>
          )}
          <ul className="space-y-1">
            {(rules.data?.rules ?? []).map((r) => (
              <li
                key={r.id}
                data-testid={`notify-rule-${r.id}`}
                className="flex items-center gap-2 rounded-md border border-line px-2 py-1 text-xs"
              >
                <span className="flex-1 truncate">
                  {r.scope === "board" ? "Every card" : `Cards of ${r.scope_key}`} →{" "}
                  {destination(r.platform, r.chat_id, r.thread_id)}
                </span>
                <button
                  type="button"
                  aria-label={`Remove rule ${r.id}`}
                  data-testid={`notify-rule-remove-${r.id}`}
                  className="rounded p-0.5 text-faint hover:bg-hover hover:text-fg"
                  onClick={() => void remove(r.id)}
                >
                  <XIcon />
                </button>
              </li>
            ))}
          </ul>
          <div className="flex items-center gap-1.5">
            <Select
              aria-label="Which cards"
              data-testid="notify-rule-scope"
              className="w-32"
              value={scope}
              onChange={(e) => setScope(e.target.value)}
            >
              <option value="board">Every card</option>
              {assignees.map((a) => (
                <option key={a} value={`assignee:${a}`}>
                  Cards of {a}
                </option>
              ))}
            </Select>
            <DestinationFields
              platform={platform}
              chat={chat}
              onPlatform={setPlatform}
              onChat={setChat}
              testPrefix="notify-rule"
            />
            <Button size="sm" data-testid="notify-rule-add" disabled={busy} onClick={() => void add()}>
              Add
            </Button>
          </div>
          <p className="text-faint text-[11px]">
            Applies to cards created (or assigned) from now on. Desktop notifications show while a board tab is open.
          </p>
        </div>
      )}
    </div>
  );
}
