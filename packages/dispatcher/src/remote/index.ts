export { Backoff } from "./backoff.ts";
export { HOST_ID, HostIdentityError, hostIdentityPath, loadOrCreateHostId } from "./host-identity.ts";
export { type HostRun, hostRunsDir, loadHostRuns } from "./host-runs.ts";
export { HostRefusedError, type RemoteClaim, RemoteHost, type RemoteHostDeps, type RemoteTask } from "./host.ts";
export { RemoteApi, RemoteCallError, type RemoteFetch } from "./rpc.ts";
export { runRemoteHostCli } from "./run.ts";
