import http from "node:http";

/**
 * The little of `fetch` that tRPC's HTTP link uses (method, headers, a string body, an abort signal;
 * `ok`, `status`, `json()`, `text()` of the answer), on `node:http`. Why not the global fetch: on
 * Node 20 its first call loads undici and compiles its WebAssembly HTTP parser, about 0.3 s of CPU,
 * more than the rest of a remote `kanban show`. Failures look like fetch's (a TypeError "fetch
 * failed" whose cause is the socket error), so error messages stay the same.
 */
export async function nodeHttpFetch(
  input: string | URL,
  init: { method?: string; headers?: Record<string, string>; body?: string | null; signal?: AbortSignal | null } = {},
): Promise<NodeFetchResponse> {
  const url = new URL(String(input));
  // TLS is loaded only for an https:// API.
  const transport = url.protocol === "https:" ? await import("node:https") : http;
  return new Promise((resolve, reject) => {
    const req = transport.request(
      url,
      { method: init.method ?? "GET", headers: init.headers ?? {}, ...(init.signal ? { signal: init.signal } : {}) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", (err) => reject(new TypeError("fetch failed", { cause: err })));
        res.on("end", () =>
          resolve(
            new NodeFetchResponse(
              res.statusCode ?? 0,
              res.statusMessage ?? "",
              res.headers,
              Buffer.concat(chunks).toString("utf8"),
            ),
          ),
        );
      },
    );
    req.on("error", (err) => reject(err.name === "AbortError" ? err : new TypeError("fetch failed", { cause: err })));
    req.end(init.body ?? undefined);
  });
}

export class NodeFetchResponse {
  readonly ok: boolean;
  readonly headers: { get(name: string): string | null };
  constructor(
    readonly status: number,
    readonly statusText: string,
    raw: http.IncomingHttpHeaders,
    private readonly body: string,
  ) {
    this.ok = status >= 200 && status < 300;
    this.headers = {
      get: (name) => {
        const v = raw[name.toLowerCase()];
        return v === undefined ? null : Array.isArray(v) ? v.join(", ") : v;
      },
    };
  }
  async text(): Promise<string> {
    return this.body;
  }
  async json(): Promise<unknown> {
    return JSON.parse(this.body);
  }
}
