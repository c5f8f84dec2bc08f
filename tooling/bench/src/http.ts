import { type ChildProcess, spawn } from "node:child_process";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { round } from "./stats.ts";

const here = path.dirname(fileURLToPath(import.meta.url));

/** Starts a real API server in its own process; resolves with its URL. */
export function startApiServer(home: string): Promise<{ url: string; child: ChildProcess }> {
  const script = `
    import { startServer } from ${JSON.stringify(path.join(here, "..", "..", "..", "packages", "api", "src", "index.ts"))};
    const s = await startServer({ host: "127.0.0.1", port: 0, location: { home: ${JSON.stringify(home)} }, logger: { info() {}, warn() {}, error() {} } });
    process.stdout.write(s.url + "\\n");
  `;
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (d) => {
      out += d;
      const line = out.split("\n")[0];
      if (out.includes("\n") && line) resolve({ url: line.trim(), child });
    });
    child.on("exit", (code) => reject(new Error(`api server exited ${code}`)));
  });
}

function cannon(opts: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(opts, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

/** A bare Node HTTP server answering a fixed body of the same size: the ceiling of the HTTP stack. */
function bareServer(body: string): Promise<{ url: string; close: () => void }> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(body);
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => {
      const addr = server.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      resolve({ url: `http://127.0.0.1:${port}`, close: () => server.close() });
    }),
  );
}

export async function benchHttp(home: string, quick: boolean) {
  const duration = quick ? 2 : 8;
  const { url, child } = await startApiServer(home);
  try {
    const boardUrl = `${url}/trpc/board.get?input=${encodeURIComponent(JSON.stringify({ done_limit: 20, column_limit: 20 }))}`;
    const sample = await (await fetch(boardUrl)).text();
    const read = await cannon({ url: boardUrl, connections: 10, duration });
    const write = await cannon({
      url: `${url}/trpc/tasks.create`,
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ title: "bench write", assignee: "nobody" }),
      connections: 10,
      duration,
    });
    const bare = await bareServer(sample);
    const ceiling = await cannon({ url: bare.url, connections: 10, duration });
    bare.close();
    const row = (r: autocannon.Result) => ({
      rps: round(r.requests.average),
      p50_ms: r.latency.p50,
      p99_ms: r.latency.p99,
      non2xx: r.non2xx,
      errors: r.errors,
    });
    return {
      board_read: { ...row(read), ratio: round(read.requests.average / ceiling.requests.average, 3) },
      create_write: row(write),
      bare_node_http: row(ceiling),
      response_bytes: sample.length,
    };
  } finally {
    child.kill("SIGKILL");
  }
}
