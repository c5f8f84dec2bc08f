/** The one function of `fs-ext` (which ships no types) that flock.ts uses. */
declare module "fs-ext" {
  /** flock(2) on an open descriptor; "nb" flags throw EAGAIN/EWOULDBLOCK when the lock is held. */
  export function flockSync(fd: number, flag: "sh" | "ex" | "shnb" | "exnb" | "un"): void;
  const fsExt: { flockSync: typeof flockSync };
  export default fsExt;
}
