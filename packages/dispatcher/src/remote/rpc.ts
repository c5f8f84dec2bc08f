/**
 * The few tRPC calls of a remote host, over `fetch`, in the wire format `@kanban/api` serves (no
 * transformer): POST `<endpoint>/<procedure>` with the input as the JSON body, answered
 * `{"result": {"data": …}}` or `{"error": {"message", "data": {"code", "httpStatus", "kanbanCode"}}}`.
 * The host may not import the API (layering), and needs nothing of tRPC's client but this.
 */

export type RemoteFetch = (
  url: string,
  init: { method: string; headers: Record<string, string>; body: string; signal?: AbortSignal | null },
) => Promise<{ status: number; text(): Promise<string> }>;

/**
 * A failed call. `unreachable`: no answer (network, timeout, 5xx, a proxy's page) — retried with
 * backoff; `refused`: the API answered a 4xx (its `code`, e.g. NOT_FOUND, FORBIDDEN, UNAUTHORIZED).
 */
export class RemoteCallError extends Error {
  override readonly name = "RemoteCallError";
  constructor(
    readonly kind: "unreachable" | "refused",
    message: string,
    readonly code: string | null = null,
    readonly httpStatus: number | null = null,
  ) {
    super(message);
  }
}

function record(v: unknown): Record<string, unknown> | null {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

export class RemoteApi {
  constructor(
    private readonly endpoint: string,
    private readonly token: string,
    private readonly fetchImpl: RemoteFetch = globalThis.fetch as unknown as RemoteFetch,
    private readonly timeoutMs = 15_000,
  ) {}

  /** Calls a mutation; returns its data or throws {@link RemoteCallError} (whose message never holds the token). */
  async mutate<T>(procedure: string, input: unknown): Promise<T> {
    let status: number;
    let text: string;
    try {
      const res = await this.fetchImpl(`${this.endpoint}/${procedure}`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${this.token}` },
        body: JSON.stringify(input),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      status = res.status;
      text = await res.text();
    } catch (err) {
      const e = err as Error & { cause?: { code?: string; message?: string } };
      const why = e.name === "TimeoutError" ? "timed out" : (e.cause?.code ?? e.cause?.message ?? e.message);
      throw new RemoteCallError("unreachable", `cannot reach the server (${why})`);
    }
    let body: Record<string, unknown> | null = null;
    try {
      body = record(JSON.parse(text));
    } catch {
      // not the API's answer: judged by the status
    }
    if (status >= 200 && status < 300 && body !== null && record(body.result) !== null)
      return (record(body.result) as Record<string, unknown>).data as T;
    const error = record(body?.error);
    const data = record(error?.data);
    const code =
      typeof data?.kanbanCode === "string" ? data.kanbanCode : typeof data?.code === "string" ? data.code : null;
    const message = typeof error?.message === "string" ? (error.message.split("\n")[0] ?? "") : "";
    if (status >= 400 && status < 500 && status !== 408 && status !== 429 && error !== null)
      throw new RemoteCallError("refused", `${procedure}: ${message || code || status}`, code, status);
    throw new RemoteCallError(
      "unreachable",
      `the server answered ${status}${code ? ` (${code})` : ""} to ${procedure}`,
      code,
      status,
    );
  }
}
