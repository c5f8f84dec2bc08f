import { performance } from "node:perf_hooks";
import { type Channel, type NotifyMessage, renderBody, signBody } from "./channels.ts";

/**
 * How one attempt ended: `delivered` (2xx), `failed` (the receiver answered with anything else:
 * counted towards dropping the subscription), `network` (no answer: refused, reset, DNS, timeout:
 * backed off, never counted).
 */
export interface SendResult {
  outcome: "delivered" | "failed" | "network";
  status: number | null;
  /** One line, never the channel's URL or secret. */
  error: string | null;
  duration_ms: number;
}

export interface SendOptions {
  /** `X-Kanban-Delivery`: the same for every attempt at one event, so a receiver can drop a repeat. */
  deliveryId: string;
  /** `X-Kanban-Timestamp`, unix seconds (the caller's clock). */
  timestampSeconds: number;
  /** Tests may stand in for the network. */
  fetch?: typeof fetch;
}

const DEFAULT_TIMEOUT_SECONDS = 10;
const ERROR_BODY_MAX = 160;

/**
 * Removes every spelling of the channel's secrets from a text: its URL (whole, without the scheme,
 * and its path, which is where Slack and Discord keep their token) and the HMAC key.
 */
export function redact(text: string, channel: Pick<Channel, "url" | "secret">): string {
  const secrets = new Set<string>();
  secrets.add(channel.url);
  secrets.add(channel.url.replace(/^https?:\/\//, ""));
  try {
    const u = new URL(channel.url);
    if (u.pathname.length > 1) secrets.add(u.pathname);
    if (u.search.length > 1) secrets.add(u.search);
    if (u.password) secrets.add(u.password);
  } catch {
    // not a URL (config validation refuses that); the literal is still redacted
  }
  if (channel.secret) secrets.add(channel.secret);
  let out = text;
  for (const s of [...secrets].sort((a, b) => b.length - a.length)) {
    if (s.length >= 4) out = out.split(s).join("[redacted]");
  }
  return out;
}

/** A network failure as a short code: `ECONNREFUSED`, `timed out after 10s`; never the address. */
function networkError(err: unknown, timeoutSeconds: number): string {
  const e = err as { name?: string; code?: string; cause?: { code?: string; name?: string } } | null;
  if (e?.name === "TimeoutError" || e?.cause?.name === "TimeoutError" || e?.name === "AbortError")
    return `timed out after ${timeoutSeconds}s`;
  const code = e?.cause?.code ?? e?.code;
  if (typeof code === "string" && /^[A-Z0-9_]+$/.test(code)) return `network error: ${code}`;
  return "network error";
}

/** POSTs one message to one channel, once (the notifier decides about retries). Never throws. */
export async function sendNotification(
  channel: Channel,
  message: NotifyMessage,
  opts: SendOptions,
): Promise<SendResult> {
  const body = JSON.stringify(renderBody(channel.type, message));
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "user-agent": "kanban-notifier",
    "x-kanban-delivery": opts.deliveryId,
    "x-kanban-timestamp": String(Math.floor(opts.timestampSeconds)),
  };
  if (channel.type === "webhook" && channel.secret) headers["x-kanban-signature"] = signBody(channel.secret, body);
  const timeout = channel.timeout_seconds ?? DEFAULT_TIMEOUT_SECONDS;
  const doFetch = opts.fetch ?? fetch;
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  let res: Response;
  const signal = AbortSignal.timeout(timeout * 1000);
  try {
    // Raced against the signal too: a receiver (or a fetch) that ignores the abort must not hold the notifier.
    const aborted = new Promise<never>((_resolve, reject) =>
      signal.addEventListener("abort", () => reject(signal.reason), { once: true }),
    );
    aborted.catch(() => {});
    res = await Promise.race([
      doFetch(channel.url, { method: "POST", headers, body, redirect: "manual", signal }),
      aborted,
    ]);
  } catch (err) {
    return { outcome: "network", status: null, error: networkError(err, timeout), duration_ms: elapsed() };
  }
  let text = "";
  try {
    text = await res.text();
  } catch {
    // the status is what counts; a body cut short changes nothing
  }
  if (res.status >= 200 && res.status < 300)
    return { outcome: "delivered", status: res.status, error: null, duration_ms: elapsed() };
  const snippet = redact(text.replace(/\s+/g, " ").trim(), channel).slice(0, ERROR_BODY_MAX);
  return {
    outcome: "failed",
    status: res.status,
    error: `HTTP ${res.status}${snippet ? `: ${snippet}` : ""}`,
    duration_ms: elapsed(),
  };
}
