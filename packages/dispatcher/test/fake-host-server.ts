import http from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A loopback stand-in for `kanban serve`'s `hosts.*` and `tasks.complete|block` procedures, in the
 * wire format of tRPC's fetch adapter (POST /trpc/<path>, JSON body; `{"result":{"data":…}}` or
 * `{"error":{message, code, data:{code, httpStatus, kanbanCode}}}`), for the remote host's loop
 * tests. It checks the bearer (the host token for hosts.*, a run token for tasks.*), records every
 * call, and answers what the test scripted.
 */
export interface FakeCall {
  path: string;
  input: Record<string, unknown>;
  auth: string | null;
}

export interface FakeClaim {
  task: Record<string, unknown>;
  run_id: number;
  run_token: string;
  board: string;
  board_key: string;
  lease_seconds: number;
}

export interface FakeServer {
  url: string;
  port: number;
  calls: FakeCall[];
  /** Claims handed out by the next hosts.claim calls (one batch each, up to `max`). */
  claims: FakeClaim[];
  /** Run ids the next hello/heartbeat answers as revoked. */
  revoked: Set<number>;
  /** The status tasks.complete/block answer with (200, or e.g. 503 / 409). */
  terminalStatus: number;
  /** Answer every call 503 (a server that is up but failing). */
  failing: boolean;
  of(path: string): FakeCall[];
  close(): Promise<void>;
  /** Listens again on the same port (after close). */
  reopen(): Promise<void>;
}

export function task(id: string, assignee = "alice"): Record<string, unknown> {
  return {
    id,
    title: id,
    assignee,
    tenant: null,
    skills: [],
    model_override: null,
    max_runtime_seconds: null,
    workspace_kind: "scratch",
    workspace_path: null,
    requires: [],
  };
}

export function claimOf(id: string, runId: number, assignee = "alice"): FakeClaim {
  return {
    task: task(id, assignee),
    run_id: runId,
    run_token: `kbr1.run-token-of-${runId}-xyz`,
    board: "default",
    board_key: "0123456789abcdef",
    lease_seconds: 3,
  };
}

export async function startFakeServer(hostToken: string, port = 0): Promise<FakeServer> {
  const calls: FakeCall[] = [];
  const state = {
    claims: [] as FakeClaim[],
    revoked: new Set<number>(),
    terminalStatus: 200,
    failing: false,
  };
  const answer = (res: http.ServerResponse, status: number, body: unknown) =>
    res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
  const error = (res: http.ServerResponse, status: number, code: string, message: string, kanbanCode?: string) =>
    answer(res, status, { error: { message, code: -32000, data: { code, httpStatus: status, kanbanCode } } });
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    let body = "";
    req.on("data", (c: Buffer) => {
      body += c.toString("utf8");
    });
    req.on("end", () => {
      const p = (req.url ?? "").replace(/^\/trpc\//, "").replace(/\?.*$/, "");
      let input: Record<string, unknown> = {};
      try {
        input = JSON.parse(body || "{}") as Record<string, unknown>;
      } catch {
        return error(res, 400, "BAD_REQUEST", "not JSON");
      }
      const auth = req.headers.authorization ?? null;
      calls.push({ path: p, input, auth });
      if (state.failing) return error(res, 503, "INTERNAL_SERVER_ERROR", "unavailable");
      if (p.startsWith("hosts.")) {
        if (auth !== `Bearer ${hostToken}`) return error(res, 401, "UNAUTHORIZED", "invalid token");
        const revoked = [...state.revoked]
          .filter((r) => ((input.runs as number[] | undefined) ?? []).includes(r))
          .map((run_id) => ({ run_id, task_id: null }));
        switch (p) {
          case "hosts.hello":
            return answer(res, 200, {
              result: { data: { host_id: input.host_id, lease_seconds: 3, heartbeat_seconds: 1, revoked } },
            });
          case "hosts.heartbeat":
            return answer(res, 200, { result: { data: { lease_seconds: 3, revoked } } });
          case "hosts.claim": {
            const batch = state.claims.splice(0, Number(input.max));
            return answer(res, 200, { result: { data: { claims: batch } } });
          }
          case "hosts.spawned":
            return answer(res, 200, { result: { data: { ok: true } } });
          case "hosts.exited":
            return answer(res, 200, { result: { data: { recorded: "crashed" } } });
          case "hosts.stopped":
            return answer(res, 200, { result: { data: { recorded: true } } });
        }
        return error(res, 404, "NOT_FOUND", `no procedure ${p}`);
      }
      if (p === "tasks.complete" || p === "tasks.block") {
        if (!auth?.startsWith("Bearer kbr1.")) return error(res, 401, "UNAUTHORIZED", "invalid token");
        if (state.terminalStatus === 200) return answer(res, 200, { result: { data: { task: { id: input.id } } } });
        if (state.terminalStatus === 409)
          return error(res, 409, "CONFLICT", "run is no longer the current run", "STALE_RUN");
        return error(res, state.terminalStatus, "INTERNAL_SERVER_ERROR", "unavailable");
      }
      return error(res, 404, "NOT_FOUND", `no procedure ${p}`);
    });
  };
  let server = http.createServer(handler);
  const sockets = new Set<import("node:net").Socket>();
  const listen = (s: http.Server, on: number) =>
    new Promise<number>((resolve, reject) => {
      s.on("connection", (c) => {
        sockets.add(c);
        c.on("close", () => sockets.delete(c));
      });
      s.once("error", reject);
      s.listen(on, "127.0.0.1", () => resolve((s.address() as AddressInfo).port));
    });
  const bound = await listen(server, port);
  const fake: FakeServer = {
    url: `http://127.0.0.1:${bound}`,
    port: bound,
    calls,
    get claims() {
      return state.claims;
    },
    set claims(v) {
      state.claims = v;
    },
    revoked: state.revoked,
    get terminalStatus() {
      return state.terminalStatus;
    },
    set terminalStatus(v) {
      state.terminalStatus = v;
    },
    get failing() {
      return state.failing;
    },
    set failing(v) {
      state.failing = v;
    },
    of: (path) => calls.filter((c) => c.path === path),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
    reopen: async () => {
      server = http.createServer(handler);
      await listen(server, bound);
    },
  };
  return fake;
}
