import path from "node:path";
import { exitWithSupervisor } from "@kanban/process";
import type { DispatcherConfig, RemoteSettings } from "../config.ts";
import { tryAcquirePidLock } from "../pid-lock.ts";
import { HostRefusedError, RemoteHost } from "./host.ts";
import { HostIdentityError } from "./host-identity.ts";

/**
 * `kanban-dispatcher --server <url>`: one remote host per home (`<home>/kanban/.host.lock`; a second
 * exits 1 naming the holder), until SIGINT/SIGTERM (or a dead supervisor). Its workers are left
 * running when it stops: the next start adopts them. Exit codes: 0 stopped, 1 failure.
 */
export async function runRemoteHostCli(config: DispatcherConfig, remote: RemoteSettings): Promise<number> {
  const write = (line: string) => process.stderr.write(`kanban-dispatcher: ${line.split("\n")[0]}\n`);
  const attempt = tryAcquirePidLock(path.join(config.home, "kanban", ".host.lock"), config.pid);
  if (!attempt.ok) {
    write(`another remote host is already running for ${config.home} (pid ${attempt.holder})`);
    return 1;
  }
  let host: RemoteHost;
  try {
    host = new RemoteHost(config, remote, { log: write });
  } catch (err) {
    attempt.lock.release();
    if (err instanceof HostIdentityError) {
      write(err.message);
      return 1;
    }
    throw err;
  }
  const onSignal = () => host.stop();
  exitWithSupervisor({ log: write });
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    await host.run();
    write("stopped (its workers keep running; the next start adopts them)");
    return 0;
  } catch (err) {
    if (err instanceof HostRefusedError) {
      write(err.message);
      return 1;
    }
    throw err;
  } finally {
    attempt.lock.release();
  }
}
