import fs from "node:fs";

/**
 * The host's available memory in bytes: `MemAvailable` of /proc/meminfo, the kernel's estimate of
 * what can be allocated without swapping (free memory plus reclaimable caches). Kernels before 3.14
 * lack it: free + buffers + page cache is the estimate there. Null off Linux (no admission by memory).
 */
export function memAvailableBytes(file = "/proc/meminfo"): number | null {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    return null;
  }
  const kb = (name: string): number | null => {
    const m = new RegExp(`^${name}:\\s+(\\d+)\\s*kB`, "m").exec(text);
    return m ? Number(m[1]) * 1024 : null;
  };
  const available = kb("MemAvailable");
  if (available !== null) return available;
  const free = kb("MemFree");
  if (free === null) return null;
  return free + (kb("Buffers") ?? 0) + (kb("Cached") ?? 0);
}
