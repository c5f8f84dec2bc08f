import http from "node:http";
import type { AddressInfo } from "node:net";

/** One request a test receiver got. */
export interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  json: Record<string, unknown>;
}

/**
 * A real HTTP server on 127.0.0.1 (a random port) playing a webhook, Slack or Discord receiver.
 * `answer` picks each response's status (default 200); every request is kept, whatever the answer.
 */
export interface TestReceiver {
  url: string;
  received: Received[];
  answer: (req: Received, n: number) => number;
  close(): Promise<void>;
}

export async function startReceiver(path = "/hook/T000/B000/secret-token-path"): Promise<TestReceiver> {
  const r: TestReceiver = {
    url: "",
    received: [],
    answer: () => 200,
    close: async () => {},
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      let json: Record<string, unknown> = {};
      try {
        json = JSON.parse(body) as Record<string, unknown>;
      } catch {
        // kept as text: a test asserts on what arrived
      }
      const got = { path: req.url ?? "", headers: req.headers, body, json };
      r.received.push(got);
      const status = r.answer(got, r.received.length);
      res.writeHead(status, { "content-type": "text/plain" });
      res.end(status >= 200 && status < 300 ? "ok" : "receiver says no");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  r.url = `http://127.0.0.1:${port}${path}`;
  r.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return r;
}

/** A URL on 127.0.0.1 where nothing listens (connection refused): a receiver down for good. */
export async function deadUrl(path = "/hook/dead-secret-path"): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}${path}`;
}
