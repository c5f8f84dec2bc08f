/**
 * @kanban/notify: the notification channels (a signed JSON webhook, Slack and Discord incoming
 * webhooks) and how one message is sent to one of them. Node built-ins only: the dispatcher's
 * notifier and the API's `notify-test` both send through it; neither the kernel nor the board does.
 */
export {
  CHANNEL_TYPES,
  type Channel,
  type ChannelType,
  isChannelType,
  type NotifyMessage,
  renderBody,
  signBody,
  taskLink,
  testMessage,
  verifySignature,
} from "./channels.ts";
export { redact, type SendOptions, type SendResult, sendNotification } from "./send.ts";
