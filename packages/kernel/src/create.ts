import path from "node:path";
import { WORKSPACE_KINDS, type WorkspaceKind } from "./constants.ts";
import type { BoardContext } from "./context.ts";
import { invalid, KernelError } from "./errors.ts";
import { copyNotifySubs } from "./notify.ts";
import { applyNotifyRules } from "./notify-rules.ts";
import { normaliseRequires } from "./labels.ts";
import { createInOneStatement } from "./store/pg/folded-writes.ts";
import { idempotentTaskId, insertTask } from "./store/sqlite/create.ts";
import { insertLink } from "./store/sqlite/links.ts";
import { setRequires } from "./store/sqlite/requires.ts";
import { tenantScope } from "./tenant-scope.ts";
import type { Task } from "./types.ts";
import { checkScratchPath, checkWorkspaceRoots, type WorkspaceRules } from "./workspace-rules.ts";

export interface CreateTaskInput {
  title: string;
  body?: string | null;
  assignee?: string | null;
  created_by?: string | null;
  workspace_kind?: string | null;
  workspace_path?: string | null;
  branch_name?: string | null;
  tenant?: string | null;
  priority?: number;
  parents?: string[];
  triage?: boolean;
  idempotency_key?: string | null;
  max_runtime_seconds?: number | null;
  skills?: string[] | null;
  max_retries?: number | null;
  model_override?: string | null;
  /** "running" (the normal dispatch path: status is computed) or "blocked" (created parked). */
  initial_status?: "running" | "blocked";
  session_id?: string | null;
  workflow_template_id?: string | null;
  current_step_key?: string | null;
  /** Labels a host must offer to claim the task (`--requires macos`); see labels.ts for the rule. */
  requires?: string[] | null;
  /**
   * The task whose worker creates this one (its run token's task): the new task follows that task's
   * subscriptions (spec §7.1, B). Set by the API from the run token, never from a caller's input.
   */
  owner_task_id?: string | null;
}

/**
 * Toolset names that people mistake for skills. A worker is given toolsets by its profile, so
 * listing one as a skill would silently do nothing; the create is refused instead.
 */
export const KNOWN_TOOLSETS = [
  "browser",
  "clarify",
  "code_execution",
  "cronjob",
  "delegation",
  "file",
  "homeassistant",
  "image_gen",
  "kanban",
  "memory",
  "moa",
  "session_search",
  "skills",
  "terminal",
  "todo",
  "tts",
  "vision",
  "web",
];

/** Profile names are case-insensitive: stored trimmed and lowercase; blank means unassigned. */
export function canonicalAssignee(value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  const v = value.trim().toLowerCase();
  return v === "" ? null : v;
}

/** Trims, drops empties and duplicates (keeping order); refuses commas and toolset names. */
export function normaliseSkills(skills: string[] | null | undefined): string[] | null {
  if (skills === null || skills === undefined) return null;
  const out: string[] = [];
  const toolsets: string[] = [];
  for (const raw of skills) {
    const s = String(raw).trim();
    if (s === "") continue;
    if (s.includes(",")) throw invalid(`skill name cannot contain comma: ${s}`);
    if (KNOWN_TOOLSETS.includes(s.toLowerCase())) {
      toolsets.push(s);
      continue;
    }
    if (!out.includes(s)) out.push(s);
  }
  if (toolsets.length > 0) {
    const names = toolsets.map((t) => `'${t}'`).join(", ");
    throw invalid(
      `${names} ${toolsets.length === 1 ? "is a toolset name" : "are toolset names"}, not skill name(s). Put toolsets in the assignee profile's toolsets config; skills name playbooks the worker loads.`,
      { toolsets },
    );
  }
  return out;
}

/**
 * Parses the CLI/tool workspace shorthand: `scratch`, `worktree`, `dir:<absolute path>` or
 * `worktree:<absolute path>`.
 */
export function parseWorkspaceSpec(spec: string): { workspace_kind: WorkspaceKind; workspace_path: string | null } {
  const s = spec.trim();
  const [kind, ...rest] = s.split(":");
  const p = rest.join(":");
  if (!WORKSPACE_KINDS.includes(kind as WorkspaceKind)) {
    throw invalid(`workspace must be scratch, worktree, worktree:<abs path> or dir:<abs path>, got '${spec}'`);
  }
  if (rest.length === 0 || p === "") {
    if (kind === "dir") throw invalid("dir: workspaces need an absolute path, e.g. dir:/srv/project");
    return { workspace_kind: kind as WorkspaceKind, workspace_path: null };
  }
  return { workspace_kind: kind as WorkspaceKind, workspace_path: p };
}

function positiveIntOrNull(value: number | null | undefined, name: string, min = 1): number | null {
  if (value === null || value === undefined) return null;
  if (!Number.isInteger(value) || value < min) throw invalid(`${name} must be an integer >= ${min}`);
  return value;
}

function optionalText(value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  const v = value.trim();
  return v === "" ? null : v;
}

/**
 * Finds a live (non-archived) task created with this idempotency key, newest first, among the tasks
 * of `tenant`: keys are scoped per tenant, so one tenant's key never hands it another tenant's task
 * (nor drops its create). With no tenant the lookup is board-wide, as Hermes' is: the operator sees
 * every task, and a retry of a create whose task inherited its tenant from a parent still finds it.
 */
export async function findByIdempotencyKey(
  ctx: BoardContext,
  key: string,
  tenant: string | null = null,
): Promise<Task | null> {
  const id = await idempotentTaskId(ctx, key, tenantScope(tenant));
  return id === null ? null : await ctx.getTask(id);
}

/**
 * Creates a task. `defaults.defaultWorkdir`: the board's project directory, inherited by dir/worktree
 * tasks created without a path. `rules`: where the caller may put a workspace (see workspace-rules.ts).
 */
export async function createTask(
  ctx: BoardContext,
  input: CreateTaskInput,
  defaults: { defaultWorkdir?: string | null } = {},
  rules: WorkspaceRules = {},
): Promise<Task> {
  const title = String(input.title ?? "").trim();
  if (title === "") throw invalid("title is required");
  const initialStatus = input.initial_status ?? "running";
  if (initialStatus !== "running" && initialStatus !== "blocked") {
    throw invalid("initial_status must be one of ['blocked', 'running']");
  }
  const kind = (input.workspace_kind ?? "scratch").trim() || "scratch";
  if (!WORKSPACE_KINDS.includes(kind as WorkspaceKind)) {
    throw invalid(`workspace_kind must be one of [${WORKSPACE_KINDS.map((k) => `'${k}'`).join(", ")}], got '${kind}'`);
  }
  let workspacePath = optionalText(input.workspace_path);
  if (workspacePath !== null && !path.isAbsolute(workspacePath)) {
    throw invalid(
      `non-absolute workspace_path '${workspacePath}'; use an absolute path (relative paths are ambiguous against the dispatcher's working directory)`,
    );
  }
  // Only dir/worktree inherit the board's project directory; scratch never does (it is deleted on completion).
  const inherited = workspacePath === null && kind !== "scratch" && !!defaults.defaultWorkdir;
  if (inherited) workspacePath = defaults.defaultWorkdir ?? null;
  if (kind === "dir" && workspacePath === null) {
    throw invalid("workspace_kind=dir needs an absolute workspace_path (or a board default workdir)");
  }
  const branch = optionalText(input.branch_name);
  if (branch !== null && kind !== "worktree") throw invalid("branch_name is only valid for worktree workspaces");
  if (branch !== null && !/^[A-Za-z0-9._/-]+$/.test(branch)) throw invalid(`invalid branch_name '${branch}'`);
  checkScratchPath(kind, workspacePath);
  checkWorkspaceRoots(kind, workspacePath, rules, inherited);
  const skills = normaliseSkills(input.skills);
  const requires = normaliseRequires(input.requires);
  const priority = input.priority ?? 0;
  if (!Number.isInteger(priority)) throw invalid("priority must be an integer");
  const maxRuntime = positiveIntOrNull(input.max_runtime_seconds, "max_runtime_seconds");
  const maxRetries = positiveIntOrNull(input.max_retries, "max_retries");
  const assignee = canonicalAssignee(input.assignee);
  const idempotencyKey = optionalText(input.idempotency_key);
  const explicitTenant = optionalText(input.tenant);

  if (idempotencyKey !== null) {
    const existing = await findByIdempotencyKey(ctx, idempotencyKey, explicitTenant);
    if (existing) return existing;
  }

  const parents: string[] = [];
  for (const p of input.parents ?? []) {
    const id = String(p).trim();
    if (id !== "" && !parents.includes(id)) parents.push(id);
  }

  return await ctx.tx(async () => {
    // Re-check inside the write lock so that two racing creates with one key yield one task.
    if (idempotencyKey !== null) {
      const existing = await findByIdempotencyKey(ctx, idempotencyKey, explicitTenant);
      if (existing) return existing;
    }
    const parentRows: { id: string; row: Task | null }[] = [];
    for (const id of parents) parentRows.push({ id, row: await ctx.getTask(id) });
    const missing = parentRows.filter((p) => p.row === null).map((p) => p.id);
    if (missing.length > 0) throw invalid(`unknown parent task(s): ${missing.join(", ")}`, { missing });
    let tenant = explicitTenant;
    if (tenant === null)
      tenant = parentRows.map((p) => p.row?.tenant ?? null).find((t) => t !== null && t !== "") ?? null;
    const status =
      initialStatus === "blocked"
        ? "blocked"
        : input.triage
          ? "triage"
          : parentRows.some((p) => p.row?.status !== "done")
            ? "todo"
            : "ready";
    const now = ctx.now();
    const row = {
      title,
      body: input.body ?? null,
      assignee,
      status,
      priority,
      created_by: optionalText(input.created_by),
      created_at: now,
      workspace_kind: kind,
      workspace_path: workspacePath,
      branch_name: branch,
      tenant,
      idempotency_key: idempotencyKey,
      max_runtime_seconds: maxRuntime,
      skills: skills === null ? null : JSON.stringify(skills),
      max_retries: maxRetries,
      model_override: optionalText(input.model_override),
      session_id: optionalText(input.session_id),
      workflow_template_id: optionalText(input.workflow_template_id),
      current_step_key: optionalText(input.current_step_key),
    };
    const payload: Record<string, unknown> = {
      assignee,
      status,
      parents,
      tenant,
      workspace_kind: kind,
      workspace_path: workspacePath,
      branch_name: branch,
    };
    if (skills !== null) payload.skills = skills;
    if (requires.length > 0) payload.requires = requires;
    if (input.model_override) payload.model_override = optionalText(input.model_override);
    let id = ctx.ids.taskId();
    // PostgreSQL: a create that writes nothing between its row and its event (no parent link, no
    // label) is one statement, which also says whether a notify rule matches the card.
    const folds = ctx.dialect === "postgres" && parents.length === 0 && requires.length === 0;
    const folded = folds
      ? await createInOneStatement(ctx, { id, ...row }, payload, ctx.now(), tenantScope(tenant))
      : null;
    let created = folded?.task ?? (folds ? null : await insertTask(ctx, { id, ...row }));
    if (created === null) {
      // One retry on an id collision; a second one means the id source is broken, not unlucky.
      id = ctx.ids.taskId();
      created = await insertTask(ctx, { id, ...row });
      if (created === null) throw new KernelError("WRONG_STATE", `task id collision on ${id}; try again`);
    }
    for (const p of parents) await insertLink(ctx, p, id);
    if (requires.length > 0) await setRequires(ctx, id, requires);
    if (folded === null) await ctx.appendEvent(id, "created", payload);
    if (status === "blocked") {
      await ctx.appendEvent(id, "blocked", {
        reason: "initial_status",
        status: "blocked",
        actor: optionalText(input.created_by) ?? "user",
      });
    }
    for (const p of parents) await copyNotifySubs(ctx, p, id);
    const owner = optionalText(input.owner_task_id);
    if (owner !== null && owner !== id && !parents.includes(owner)) await copyNotifySubs(ctx, owner, id);
    if (folded === null || folded.rulesMatch) await applyNotifyRules(ctx, { id, assignee, tenant });
    // The row as the insert returned it: links, labels, events and subscriptions live in other tables.
    return created;
  });
}
