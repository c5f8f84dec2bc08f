/** What came back from one raw HTTP call of a procedure. */
export interface HttpResult {
  status: number;
  contentType: string;
  text: string;
  /** The body parsed as JSON, or null when it is not JSON. */
  json: unknown;
}

export type ProcedureType = "query" | "mutation" | "subscription";

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/**
 * Calls one procedure the way any HTTP client would, without tRPC's client: queries and
 * subscriptions as `GET /trpc/<path>?input=<json>`, mutations as `POST` with the JSON input as the
 * body. `undefined` input sends none. A subscription's stream is cut as soon as its first bytes
 * (or its error) arrive: the status and what came first are what a caller learns.
 */
export async function callProcedure(
  base: string,
  path: string,
  type: ProcedureType,
  input: unknown,
  timeoutMs = 15_000,
): Promise<HttpResult> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const url = new URL(`${base}/trpc/${path}`);
    let res: Response;
    if (type === "mutation") {
      res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: input === undefined ? undefined : JSON.stringify(input),
        signal: controller.signal,
      });
    } else {
      if (input !== undefined) url.searchParams.set("input", JSON.stringify(input));
      res = await fetch(url, {
        headers: type === "subscription" ? { accept: "text/event-stream" } : {},
        signal: controller.signal,
      });
    }
    const contentType = res.headers.get("content-type") ?? "";
    if (contentType.includes("text/event-stream")) return await readStream(res, controller);
    const text = await res.text();
    return { status: res.status, contentType, text, json: parse(text) };
  } finally {
    clearTimeout(timer);
  }
}

/** How long a live stream must stay free of an error event to count as accepted. */
const STREAM_QUIET_MS = 400;

/**
 * A subscription always answers 200 and reports a refusal as its first event (`serialized-error`,
 * carrying the same error envelope and HTTP status a query would get). Reads until that event, or
 * until the stream has been quiet for a moment (accepted), then cuts it.
 */
async function readStream(res: Response, controller: AbortController): Promise<HttpResult> {
  const contentType = res.headers.get("content-type") ?? "";
  const reader = res.body?.getReader();
  const decoder = new TextDecoder();
  let text = "";
  const quietUntil = Date.now() + STREAM_QUIET_MS;
  try {
    while (reader && Date.now() < quietUntil) {
      const timeout = new Promise<null>((resolve) =>
        setTimeout(() => resolve(null), Math.max(1, quietUntil - Date.now())),
      );
      const chunk = await Promise.race([reader.read(), timeout]);
      if (chunk === null || chunk.done) break;
      text += decoder.decode(chunk.value, { stream: true });
      const error = /event: serialized-error\ndata: (.*)\n/.exec(text);
      if (error?.[1] !== undefined) {
        const envelope = parse(error[1]) as ErrorEnvelope["error"] | null;
        return { status: envelope?.data?.httpStatus ?? 500, contentType, text, json: { error: envelope } };
      }
    }
    return { status: res.status, contentType, text, json: null };
  } finally {
    controller.abort();
  }
}

/** The `result.data` of a successful call; throws with the body otherwise. */
export function dataOf<T>(r: HttpResult): T {
  const data = (r.json as { result?: { data?: T } } | null)?.result?.data;
  if (r.status !== 200 || data === undefined) throw new Error(`call failed (${r.status}): ${r.text.slice(0, 500)}`);
  return data;
}

/** The error envelope every refusal carries. */
export interface ErrorEnvelope {
  error: {
    message: string;
    code: number;
    data: { code: string; httpStatus: number; kanbanCode: string | null; details: unknown; zodError: unknown };
  };
}

export function errorOf(r: HttpResult): ErrorEnvelope["error"] | null {
  const e = (r.json as Partial<ErrorEnvelope> | null)?.error;
  return e && typeof e.message === "string" && typeof e.data?.code === "string" ? e : null;
}

/** The monorepo's root: naming one of its source files would disclose the server's code layout. */
const REPO_ROOT = new URL("../../../../", import.meta.url).pathname.replace(/\/$/, "");
const SOURCE_FILE = new RegExp(`${REPO_ROOT.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}/\\S*\\.(?:tsx?|[cm]?js)\\b`);

/** Stack-trace shapes (V8 frames, source positions, Node internals) that must never reach a client. */
const STACK_TRACE = /\n\s+at \S|\bat .+\(.+:\d+:\d+\)|node:internal|\.tsx?:\d+:\d+|\/node_modules\//;

/** Why a response or an error line leaks internals, or null when it does not. */
export function leak(text: string): string | null {
  const m = STACK_TRACE.exec(text) ?? SOURCE_FILE.exec(text);
  return m ? `leaks internals: ${JSON.stringify(text.slice(Math.max(0, m.index - 80), m.index + 120))}` : null;
}
