import fs from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * The remote-host reliability report: one entry per scenario, written by the scenario's test into
 * `tooling/reliability/remote-report.json` (gitignored; each run replaces its scenario's entry and
 * keeps the others). `npm run remote-report` prints it as the README's Markdown table
 * (print-report.mjs).
 */
export const REPORT_FILE = fileURLToPath(new URL("../../remote-report.json", import.meta.url));

export interface Fault {
  /** `cut` / `stall` of a host's link, `sigkill` of the server or a host. */
  kind: "cut" | "stall" | "sigkill-server" | "sigkill-host";
  target: string;
  /** Seconds after the scenario started. */
  at_s: number;
  /** How long the fault lasted (link broken, process down), in seconds. */
  duration_s: number;
}

export interface ScenarioReport {
  scenario: string;
  title: string;
  finished_at: string;
  seed: number | null;
  tasks: number;
  faults: Fault[];
  completions_made: number;
  completions_accepted: number;
  late_reports: number;
  completions_lost: number;
  double_runs: number;
  /** Each reconnect (link restored, process restarted) to the moment host and server agreed, in ms. */
  reconnect_to_consistent_ms: number[];
  wall_s: number;
  /** Every check of the scenario passed. */
  passed: boolean;
  notes: string[];
}

interface ReportFile {
  scenarios: Record<string, ScenarioReport>;
}

export function readReport(): ReportFile {
  try {
    return JSON.parse(fs.readFileSync(REPORT_FILE, "utf8")) as ReportFile;
  } catch {
    return { scenarios: {} };
  }
}

/**
 * Adds one scenario to the report file. The scenario files run side by side (npm test runs them in
 * parallel: they mostly wait out injected faults), so the read-modify-write happens under a lock
 * directory, and the new file replaces the old one whole (a reader never sees half of it).
 */
export function writeScenario(report: ScenarioReport): void {
  const lock = `${REPORT_FILE}.lock`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      // A writer holds it for milliseconds; one that died holding it is waited out, then ignored.
      if (Date.now() > deadline) break;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
  }
  try {
    const file = readReport();
    file.scenarios[report.scenario] = report;
    const tmp = `${REPORT_FILE}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, `${JSON.stringify(file, null, 2)}\n`);
    fs.renameSync(tmp, REPORT_FILE);
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

/** A scenario's report under construction; `finish` writes it whether or not the checks passed. */
export class ScenarioRecorder {
  private readonly started = Date.now();
  readonly faults: Fault[] = [];
  readonly reconnects: number[] = [];
  readonly notes: string[] = [];
  seed: number | null = null;
  tasks = 0;

  constructor(
    readonly scenario: string,
    readonly title: string,
  ) {}

  /** Seconds since the scenario started. */
  elapsed(): number {
    return Math.round((Date.now() - this.started) / 100) / 10;
  }

  fault(kind: Fault["kind"], target: string, startedAtMs: number, endedAtMs: number): void {
    this.faults.push({
      kind,
      target,
      at_s: Math.round((startedAtMs - this.started) / 100) / 10,
      duration_s: Math.round((endedAtMs - startedAtMs) / 100) / 10,
    });
  }

  finish(numbers: {
    made: number;
    accepted: number;
    late: number;
    lost: number;
    doubles: number;
    passed: boolean;
  }): ScenarioReport {
    const report: ScenarioReport = {
      scenario: this.scenario,
      title: this.title,
      finished_at: new Date().toISOString(),
      seed: this.seed,
      tasks: this.tasks,
      faults: [...this.faults].sort((a, b) => a.at_s - b.at_s),
      completions_made: numbers.made,
      completions_accepted: numbers.accepted,
      late_reports: numbers.late,
      completions_lost: numbers.lost,
      double_runs: numbers.doubles,
      reconnect_to_consistent_ms: this.reconnects,
      wall_s: this.elapsed(),
      passed: numbers.passed,
      notes: this.notes,
    };
    writeScenario(report);
    return report;
  }
}
