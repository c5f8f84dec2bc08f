import fs from "node:fs";

/** One line of a chaos worker's record file (see chaos-worker.mjs). */
export interface WorkerRecord {
  event: "start" | "completed" | "stale" | "error" | "heartbeat_refused";
  pid: number;
  task: string;
  run: number;
  at: number;
  status?: number;
  code?: string | null;
  message?: string | null;
  completed_run?: number | null;
}

export const CHAOS_WORKER = new URL("./chaos-worker.mjs", import.meta.url).pathname;

/** Reads every complete line of a record file (a worker killed mid-write leaves at most one partial line). */
export function readRecords(file: string): WorkerRecord[] {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    return [];
  }
  const out: WorkerRecord[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    try {
      out.push(JSON.parse(line) as WorkerRecord);
    } catch {
      // a torn last line of a SIGKILLed worker
    }
  }
  return out;
}
