import path from "node:path";
import type { DispatcherHold, DispatcherHoldCode, FileLock } from "@kanban/db";
import type { ReadyLaneFilter } from "@kanban/kernel";
import { type HostSlot, HostSlots } from "./host-slots.ts";
import { memAvailableBytes } from "./meminfo.ts";

/** A hold as the kernel's lane takes it (`ReadyLaneFilter.hold`). */
export type LaneHold = NonNullable<ReturnType<NonNullable<ReadyLaneFilter["hold"]>>>;

/** What admission is configured by (read at every claim, so a config.json reload counts at once). */
export interface AdmissionSettings {
  /** `kanban.memory_floor_mb` (0: off). */
  memoryFloorMb: number;
  /** A profile's own `memory_floor_mb`, when it has one. */
  profileFloorMb(profile: string): number | undefined;
  /** `kanban.max_workers_host` (null: no cap). */
  maxWorkersHost: number | null;
  /** `kanban.host_state_dir`. */
  hostStateDir: string;
}

const MB = 1024 * 1024;

/**
 * Admission control: whether a worker may start on this host now. Asked by the kernel's lane for
 * each ready task before it is claimed (`hold`), so a held task is never claimed, released or
 * counted as a failure; it stays ready and says why (the dispatcher's status `holds`).
 *
 * - **Memory floor**: no worker starts while `MemAvailable` is under the profile's floor (else
 *   `kanban.memory_floor_mb`). Read before each claim: a tick that starts workers sees what they took.
 * - **Host cap**: at most `kanban.max_workers_host` workers at once on the host, counted in
 *   {@link HostSlots} (every board, every home and dispatcher process sharing `host_state_dir`).
 *   With a cap, each claim's count-claim-spawn runs under the host's admission lock
 *   ({@link enter}…{@link leave}), so two dispatchers cannot both take the last slot.
 */
export class Admission {
  private slots: HostSlots | null = null;
  private lock: FileLock | null = null;
  private lockMissed = false;
  private availableBytes: number | null = null;
  private running = 0;

  constructor(
    private readonly settings: () => AdmissionSettings,
    /** The host's available memory in bytes (tests may not fake it: the default reads /proc/meminfo). */
    private readonly memAvailable: () => number | null = memAvailableBytes,
  ) {}

  private hostSlots(): HostSlots {
    const dir = path.resolve(this.settings().hostStateDir);
    if (this.slots?.dir !== dir) this.slots = new HostSlots(dir);
    return this.slots;
  }

  /** Before a claim: the host lock when a cap is set, then the host's count and available memory. */
  async enter(): Promise<void> {
    const s = this.settings();
    this.lockMissed = false;
    if (s.maxWorkersHost !== null) {
      this.lock = await this.hostSlots().lock();
      // Another dispatcher held the host for the whole wait: no start without a sure count.
      this.lockMissed = this.lock === null;
    }
    this.running = this.hostSlots().live().length;
    this.availableBytes = this.memAvailable();
  }

  /** The lane's question for a task of `assignee` (see {@link LaneHold}). */
  hold(assignee: string): LaneHold | null {
    const s = this.settings();
    const floorMb = s.profileFloorMb(assignee) ?? s.memoryFloorMb;
    if (floorMb > 0 && this.availableBytes !== null && this.availableBytes < floorMb * MB) {
      return {
        code: "memory_floor" satisfies DispatcherHoldCode,
        detail: { available_mb: Math.floor(this.availableBytes / MB), floor_mb: floorMb, profile: assignee },
      };
    }
    const max = s.maxWorkersHost;
    if (max !== null && (this.lockMissed || this.running >= max)) {
      return {
        code: "host_cap" satisfies DispatcherHoldCode,
        detail: { max, running: this.running, ...(this.lockMissed ? { lock: "busy" } : {}) },
      };
    }
    return null;
  }

  /** A worker was started (inside {@link enter}…{@link leave}): it counts for the host from now on. */
  started(slot: Omit<HostSlot, "start">): void {
    this.hostSlots().add(slot);
    this.running++;
  }

  /** After the claim (and its spawn, if any): releases the host lock. */
  leave(): void {
    this.lock?.release();
    this.lock = null;
  }

  /** The host cap and the workers running on the host now. */
  hostCap(): { max: number | null; running: number } {
    return { max: this.settings().maxWorkersHost, running: this.hostSlots().live().length };
  }
}

/** A held skip of the lane as the status lists it. */
export function toHold(
  board: string,
  h: { task_id: string; code: string; detail: Record<string, unknown> },
): DispatcherHold {
  return { task_id: h.task_id, board, code: h.code as DispatcherHoldCode, detail: h.detail };
}

/** One readable line per hold, for the log and the text output. */
export function describeHold(h: { task_id: string; code: string; detail: Record<string, unknown> }): string {
  const d = h.detail;
  switch (h.code) {
    case "memory_floor":
      return `${h.task_id} held: ${d.available_mb} MB available, under the floor of ${d.floor_mb} MB (profile ${d.profile})`;
    case "host_cap":
      return `${h.task_id} held: host cap full (${d.running} of ${d.max} workers on this host${d.lock === "busy" ? ", admission lock busy" : ""})`;
    case "profile_cap":
      return `${h.task_id} held: @${d.assignee} at its cap (${d.current} of ${d.max})`;
    default:
      return `${h.task_id} held: ${h.code}`;
  }
}
