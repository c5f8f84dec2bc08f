import { describeHold } from "./admission/admission.ts";
import type { DispatchResult } from "./dispatch-once.ts";

/**
 * The `--json` shape of a one-shot tick (spec §5 `dispatch`, plus `skipped_locked`): the tick's
 * result without the internal `held_back` reasons and the spawned pids.
 */
export type DispatchJson = Omit<DispatchResult, "spawned" | "held_back" | "not_a_profile" | "motions"> & {
  spawned: { task_id: string; assignee: string; workspace: string }[];
};

export function toJson(r: DispatchResult): DispatchJson {
  const { held_back: _internal, not_a_profile: _named, motions: _why, spawned, ...rest } = r;
  return {
    ...rest,
    spawned: spawned.map((s) => ({ task_id: s.task_id, assignee: s.assignee, workspace: s.workspace })),
  };
}

function counted(label: string, ids: string[]): string {
  return ids.length === 0 ? `${label}: 0` : `${label}: ${ids.length}  ${ids.join(" ")}`;
}

/** The text report of a one-shot tick: counts and ids, then the skip lines that explain held-back work. */
export function formatText(r: DispatchResult, opts: { dryRun?: boolean } = {}): string {
  if (r.skipped_locked)
    return "Skipped: another dispatcher is ticking this board right now (its dispatch lock is held).";
  const lines: string[] = [];
  if (opts.dryRun) lines.push("Dry run: recovery and promotion ran; nothing was claimed or spawned.");
  lines.push(`Reclaimed: ${r.reclaimed}`);
  lines.push(counted("Crashed", r.crashed));
  lines.push(counted("Timed out", r.timed_out));
  lines.push(counted("Stale", r.stale));
  lines.push(counted("Auto-blocked", r.auto_blocked));
  // The classes that are never counted, and the auto-revive: said only when they happened this tick.
  if (r.rate_limited.length > 0) lines.push(counted("Rate limited (cooling down)", r.rate_limited));
  if (r.transient.length > 0) lines.push(counted("Transient (cooling down)", r.transient));
  if (r.auto_revived.length > 0) lines.push(counted("Auto-revived", r.auto_revived));
  if (r.revive_exhausted.length > 0) lines.push(counted("Revives used up (stays blocked)", r.revive_exhausted));
  lines.push(`Promoted: ${r.promoted}`);
  lines.push(`${opts.dryRun ? "Would spawn" : "Spawned"}: ${r.spawned.length}`);
  for (const s of r.spawned) lines.push(`  ${s.task_id}  @${s.assignee}${s.workspace ? `  ${s.workspace}` : ""}`);
  if (r.auto_assigned_default.length > 0)
    lines.push(`Assigned to the default assignee: ${r.auto_assigned_default.join(" ")}`);
  if (r.skipped_unassigned.length > 0) lines.push(`Skipped (unassigned): ${r.skipped_unassigned.join(" ")}`);
  for (const { task_id, assignee } of r.not_a_profile) {
    lines.push(
      `Skipped (assignee is not a spawnable profile): ${task_id}  @${assignee} is not a profile on this host; reassign it`,
    );
  }
  for (const c of r.skipped_per_profile_capped) {
    lines.push(`Skipped (per-profile cap): ${c.task_id}  @${c.assignee} already runs ${c.current}`);
  }
  for (const g of r.respawn_guarded) lines.push(`Held back (${g.reason}): ${g.task_id}`);
  // Admission control (memory floor, host cap): never claimed, still ready.
  for (const h of r.held) lines.push(`Held (${h.code}): ${describeHold(h).replace(/^\S+ held: /, `${h.task_id}  `)}`);
  return lines.join("\n");
}
