import net from "node:net";

/**
 * A TCP proxy on loopback that a test drives, standing for the network between a remote host and
 * the server. It forwards bytes both ways until told otherwise:
 * - `cut()`: the link is gone. Every open connection is reset (both ends) and every new one is
 *   reset as soon as it is accepted, until `restore()`. A caller sees ECONNRESET, never a reply.
 * - `stall()`: the link is silent. Sockets stay open, nothing is forwarded either way, new
 *   connections are accepted but never dialled through; on `restore()` what was held goes on, in
 *   order (as TCP retransmission does after a real outage). A caller sees a timeout.
 * - `restore()`: back to pass-through.
 *
 * A separate proxy per link lets a test break one host's network and keep the other's.
 */
export type LinkState = "open" | "cut" | "stalled";

/** One accepted connection and, once dialled, its upstream side. */
interface Pair {
  client: net.Socket;
  upstream: net.Socket | null;
}

export interface ProxyStats {
  /** Connections accepted since start (refused ones included). */
  accepted: number;
  /** Connections reset because the link was cut (open ones by `cut()`, new ones while cut). */
  reset: number;
  cuts: number;
  stalls: number;
  /** Bytes forwarded client → upstream and upstream → client. */
  bytesUp: number;
  bytesDown: number;
}

export class TcpProxy {
  private state: LinkState = "open";
  private readonly pairs = new Set<Pair>();
  readonly stats: ProxyStats = { accepted: 0, reset: 0, cuts: 0, stalls: 0, bytesUp: 0, bytesDown: 0 };

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
    private targetPort: number,
    private readonly targetHost: string,
  ) {}

  /** Listens on an ephemeral loopback port and forwards to `target`. */
  static async start(target: { port: number; host?: string }): Promise<TcpProxy> {
    let proxy: TcpProxy | undefined;
    // Half-open allowed on both sides: a FIN is forwarded as a FIN, not turned into a full close.
    const server = net.createServer({ allowHalfOpen: true }, (socket) => proxy?.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("proxy has no TCP address");
    proxy = new TcpProxy(server, address.port, target.port, target.host ?? "127.0.0.1");
    return proxy;
  }

  /** `http://127.0.0.1:<proxy port>`: the server as a host behind this link sees it. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get linkState(): LinkState {
    return this.state;
  }

  /** Open connections (pairs) the proxy holds right now. */
  get connections(): number {
    return this.pairs.size;
  }

  /** Points new connections at another port (a server restarted elsewhere); open ones are untouched. */
  retarget(port: number): void {
    this.targetPort = port;
  }

  cut(): void {
    if (this.state !== "cut") this.stats.cuts++;
    this.state = "cut";
    for (const pair of [...this.pairs]) this.reset(pair);
  }

  stall(): void {
    if (this.state === "stalled") return;
    this.stats.stalls++;
    this.state = "stalled";
    for (const pair of this.pairs) this.hold(pair);
  }

  restore(): void {
    const was = this.state;
    this.state = "open";
    if (was !== "stalled") return;
    for (const pair of [...this.pairs]) {
      if (pair.upstream === null) this.dial(pair);
      else this.flow(pair);
    }
  }

  /** Resets every connection and stops listening. */
  async close(): Promise<void> {
    for (const pair of [...this.pairs]) this.reset(pair, false);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    this.stats.accepted++;
    const pair: Pair = { client, upstream: null };
    client.on("error", () => this.drop(pair));
    client.on("close", () => this.drop(pair));
    if (this.state === "cut") {
      this.stats.reset++;
      client.resetAndDestroy();
      return;
    }
    this.pairs.add(pair);
    client.on("data", (chunk: Buffer) => {
      this.stats.bytesUp += chunk.length;
    });
    if (this.state === "stalled") {
      // A silent network: the handshake completed (the kernel did that), nothing more happens.
      client.pause();
      return;
    }
    this.dial(pair);
  }

  /** Opens the upstream side of a pair and starts forwarding. */
  private dial(pair: Pair): void {
    const upstream = net.connect({ port: this.targetPort, host: this.targetHost, allowHalfOpen: true });
    pair.upstream = upstream;
    upstream.on("data", (chunk: Buffer) => {
      this.stats.bytesDown += chunk.length;
    });
    // The server being down is not the network being cut: the client is reset as a refused
    // connection would reset it, so it sees a connection error too.
    upstream.on("error", () => this.reset(pair, false));
    upstream.on("close", () => this.drop(pair));
    this.flow(pair);
  }

  private flow(pair: Pair): void {
    if (pair.upstream === null) return;
    pair.client.pipe(pair.upstream);
    pair.upstream.pipe(pair.client);
  }

  /** Stops forwarding on a pair: unpiped and paused, the bytes stay in the kernel's buffers. */
  private hold(pair: Pair): void {
    pair.client.unpipe();
    pair.client.pause();
    if (pair.upstream !== null) {
      pair.upstream.unpipe();
      pair.upstream.pause();
    }
  }

  private reset(pair: Pair, counts = true): void {
    if (!this.pairs.has(pair)) return;
    this.pairs.delete(pair);
    if (counts) this.stats.reset++;
    if (!pair.client.destroyed) pair.client.resetAndDestroy();
    if (pair.upstream !== null && !pair.upstream.destroyed) pair.upstream.resetAndDestroy();
  }

  /** One side closed or failed: the other side goes too (half-open pairs would leak). */
  private drop(pair: Pair): void {
    if (!this.pairs.delete(pair)) return;
    if (!pair.client.destroyed) pair.client.destroy();
    if (pair.upstream !== null && !pair.upstream.destroyed) pair.upstream.destroy();
  }
}
