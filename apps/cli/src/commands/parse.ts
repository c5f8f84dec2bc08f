import os from "node:os";
import path from "node:path";
import { isWorkspaceKind } from "@kanban/contract";
import { InvalidArgumentError } from "commander";
import { UsageError } from "../errors.ts";

/** commander value parsers: a bad value is a usage error (exit 2) naming the flag's rule. */
export function intArg(min: number | null = null) {
  return (value: string): number => {
    if (!/^[-+]?\d+$/.test(value.trim())) throw new InvalidArgumentError("expected an integer");
    const n = Number(value);
    if (min !== null && n < min) throw new InvalidArgumentError(`expected an integer >= ${min}`);
    return n;
  };
}

export function numberArg(min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isFinite(n) || n < min)
      throw new InvalidArgumentError(`expected a number >= ${min}`);
    return n;
  };
}

/** Repeatable flags (`--parent a --parent b`). */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** `300`, `90s`, `30m`, `2h`, `1d` → seconds. */
export function durationArg(value: string): number {
  const m = /^(\d+)\s*([smhd]?)$/i.exec(value.trim());
  if (!m) throw new InvalidArgumentError("expected a duration like 300, 90s, 30m, 2h or 1d");
  const unit = (m[2] ?? "").toLowerCase();
  const n = Number(m[1]) * (unit === "m" ? 60 : unit === "h" ? 3600 : unit === "d" ? 86_400 : 1);
  if (n < 1) throw new InvalidArgumentError("the duration must be at least 1 second");
  return n;
}

export function choiceArg<T extends string>(choices: readonly T[]) {
  return (value: string): T => {
    if (!(choices as readonly string[]).includes(value))
      throw new InvalidArgumentError(`expected one of ${choices.join(", ")}`);
    return value as T;
  };
}

const SLUG_RE = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** A board slug as the db normalises it (trim, lowercase); malformed → usage error. */
export function slugArg(value: string): string {
  const slug = value.trim().toLowerCase();
  if (!SLUG_RE.test(slug)) {
    throw new InvalidArgumentError(
      `invalid board slug '${value}': 1-64 chars of lowercase letters, digits, '-' and '_', not starting with '-' or '_'`,
    );
  }
  return slug;
}

function expandHome(p: string): string {
  if (p === "~") return os.homedir();
  if (p.startsWith("~/")) return path.join(os.homedir(), p.slice(2));
  return p;
}

/**
 * `scratch | worktree | worktree:<path> | dir:<path>`; `~` is expanded and a relative path is
 * made absolute here, because the API may run in another directory (or on another machine).
 */
export function workspaceArg(value: string): string {
  const idx = value.indexOf(":");
  const kind = idx === -1 ? value : value.slice(0, idx);
  if (!isWorkspaceKind(kind))
    throw new InvalidArgumentError("expected scratch, worktree, worktree:<path> or dir:<path>");
  if (idx === -1) {
    if (kind === "dir") throw new InvalidArgumentError("dir: needs a path, e.g. dir:/srv/project");
    return kind;
  }
  const p = value.slice(idx + 1).trim();
  if (kind === "scratch") throw new InvalidArgumentError("scratch takes no path");
  if (p === "") throw new InvalidArgumentError(`${kind}: needs a path after the colon`);
  return `${kind}:${path.resolve(expandHome(p))}`;
}

/** A branch name: no leading '-', no whitespace. */
export function branchArg(value: string): string {
  if (value.trim() === "" || value.startsWith("-") || /\s/.test(value)) {
    throw new InvalidArgumentError("a branch name must not be empty, start with '-' or contain whitespace");
  }
  return value;
}

/** `--metadata '<json object>'`; anything but an object is a usage error. */
export function parseMetadata(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--metadata is not valid JSON: ${(err as Error).message}`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value))
    throw new UsageError("--metadata must be a JSON object");
  return value as Record<string, unknown>;
}

/** `none`, `-`, `null` (and empty) mean "nobody". */
export function profileOrNull(value: string): string | null {
  const v = value.trim();
  return v === "" || v === "-" || v.toLowerCase() === "none" || v.toLowerCase() === "null" ? null : v;
}
