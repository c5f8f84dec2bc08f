import fs from "node:fs";
import net from "node:net";

/** The kernel's ephemeral range: where it picks source ports for outgoing connections and for listen(0). */
function ephemeralRange(): [number, number] {
  try {
    const [low, high] = fs
      .readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8")
      .trim()
      .split(/\s+/)
      .map(Number);
    if (Number.isInteger(low) && Number.isInteger(high)) return [low as number, high as number];
  } catch {
    // Not Linux: the IANA dynamic range.
  }
  return [49152, 65535];
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once("error", () => resolve(false));
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(true)));
  });
}

/**
 * A loopback port that is free now and lies outside the ephemeral range.
 *
 * A test that hands a port to a child process (or restarts a server where its clients look) leaves a
 * window between choosing the port and binding it. A port from listen(0) is ephemeral, so any outgoing
 * connection on the machine (a PostgreSQL client, another suite's HTTP call) may take it as its source
 * port inside that window; CI saw EADDRINUSE that way. A port below the range is only ever taken by
 * another listener, which picks at random too.
 */
export async function stablePort(): Promise<number> {
  const [low] = ephemeralRange();
  const floor = 10_000;
  const ceiling = low > floor + 1000 ? low : 30_000;
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = floor + Math.floor(Math.random() * (ceiling - floor));
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port between ${floor} and ${ceiling}`);
}
