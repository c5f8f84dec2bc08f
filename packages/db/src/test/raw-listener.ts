import pg from "pg";
import { KANBAN_EVENTS_CHANNEL } from "../pg-listen.ts";

/** A raw LISTEN on the live-events channel, on its own client: the payloads as sent, unparsed. */
export interface RawListener {
  payloads: string[];
  /** Waits until a payload equal to `payload` arrived; throws after 10 s without it. */
  waitFor(payload: string): Promise<void>;
  end(): Promise<void>;
}

export async function rawListener(url: string): Promise<RawListener> {
  const client = new pg.Client({ connectionString: url });
  client.on("error", () => {});
  await client.connect();
  const payloads: string[] = [];
  client.on("notification", (m) => {
    if (m.channel === KANBAN_EVENTS_CHANNEL && m.payload !== undefined) payloads.push(m.payload);
  });
  await client.query(`LISTEN ${KANBAN_EVENTS_CHANNEL}`);
  return {
    payloads,
    async waitFor(payload) {
      const deadline = Date.now() + 10_000;
      while (!payloads.includes(payload)) {
        if (Date.now() > deadline) throw new Error(`no ${JSON.stringify(payload)} notification within 10 s`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    end: () => client.end(),
  };
}
