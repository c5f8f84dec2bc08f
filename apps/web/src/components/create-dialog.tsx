"use client";

import { WORKSPACE_KINDS } from "@kanban/contract";
import { useId, useState } from "react";
import type { CreateFields, Created } from "../hooks/use-create-task.ts";
import { assigneeWarning, type KnownProfiles } from "../lib/assignee-check.ts";
import { columnLabel } from "../lib/columns.ts";
import { isLabelsRefusal } from "../lib/labels.ts";
import type { Profile } from "../lib/types.ts";
import type { TaskOption } from "./drawer-sections.tsx";
import { WarnIcon, XIcon } from "./icons.tsx";
import { LabelsInput } from "./labels-input.tsx";
import { Modal } from "./modal.tsx";
import { Button, Field, Input, Select, Textarea } from "./ui.tsx";

export interface CreateDialogProps {
  column: string | null;
  initialTitle?: string;
  profiles: Profile[];
  /** Who a worker can be started for (config.get); undefined until known. */
  knownProfiles?: KnownProfiles;
  assignees: string[];
  tenants: string[];
  taskOptions: TaskOption[];
  defaultTenant: string | null;
  /** The board's project directory: a dir/worktree workspace starts there. */
  defaultWorkdir: string | null;
  create: (
    fields: CreateFields,
    column: string | null,
    triage: boolean,
    atField?: (message: string) => boolean,
  ) => Promise<Created | null>;
  onClose: () => void;
  onOpenTask: (id: string) => void;
}

/** Splits "a, b,c" into trimmed non-empty items. */
export function splitList(s: string): string[] {
  return s
    .split(/[,\n]/)
    .map((x) => x.trim())
    .filter((x) => x !== "");
}

/** Every field of a new task; shows the server's warning when nothing would dispatch it. */
export function CreateDialog(props: CreateDialogProps) {
  const ids = { assignees: useId(), tenants: useId(), tasks: useId() };
  const [title, setTitle] = useState(props.initialTitle ?? "");
  const [body, setBody] = useState("");
  const [assignee, setAssignee] = useState("");
  const [priority, setPriority] = useState("0");
  const [tenant, setTenant] = useState(props.defaultTenant ?? "");
  const [skills, setSkills] = useState("");
  const [requires, setRequires] = useState<string[]>([]);
  const [requiresError, setRequiresError] = useState<string | null>(null);
  const [parents, setParents] = useState<string[]>([]);
  const [parentInput, setParentInput] = useState("");
  const [workspaceKind, setWorkspaceKind] = useState<(typeof WORKSPACE_KINDS)[number]>("scratch");
  const [workspacePath, setWorkspacePath] = useState("");
  const [maxRuntime, setMaxRuntime] = useState("");
  const [triage, setTriage] = useState(props.column === "triage");
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [created, setCreated] = useState<Created | null>(null);
  const names = [...new Set([...props.profiles.map((p) => p.name), ...props.assignees])].sort();
  // A card for someone no worker can be started for would sit in Ready forever: say so before it
  // is created, and make creating it anyway a second, deliberate click.
  const unknownAssignee = triage ? null : assigneeWarning(assignee, props.knownProfiles);
  const [confirmedFor, setConfirmedFor] = useState<string | null>(null);

  const addParent = () => {
    const id = parentInput.trim().split(/\s/)[0] ?? "";
    if (id && !parents.includes(id)) setParents([...parents, id]);
    setParentInput("");
  };

  const submit = async () => {
    if (!title.trim()) {
      setProblem("A title is required.");
      return;
    }
    const p = Number(priority || "0");
    const runtime = maxRuntime.trim() === "" ? null : Number(maxRuntime);
    if (!Number.isInteger(p)) return setProblem("Priority must be a whole number.");
    if (runtime !== null && !(Number.isInteger(runtime) && runtime >= 1))
      return setProblem("Max runtime must be a whole number of seconds (1 or more).");
    if (workspaceKind === "dir" && !workspacePath.trim()) return setProblem("A dir workspace needs an absolute path.");
    // A label the field refused is still in it, to be corrected: nothing is sent until it is.
    if (requiresError) return;
    if (unknownAssignee && confirmedFor !== assignee.trim()) {
      setConfirmedFor(assignee.trim());
      return setProblem(`${unknownAssignee} Create it anyway? Press Create again.`);
    }
    setBusy(true);
    setProblem(null);
    const pending = parentInput.trim() ? [...parents, parentInput.trim()] : parents;
    const result = await props.create(
      {
        title: title.trim(),
        body: body.trim() ? body : null,
        assignee: assignee.trim() || null,
        priority: p,
        tenant: tenant.trim() || null,
        skills: skills.trim() ? splitList(skills) : null,
        parents: pending,
        workspace_kind: workspaceKind,
        workspace_path: workspacePath.trim() || null,
        max_runtime_seconds: runtime,
        ...(requires.length > 0 ? { requires } : {}),
      },
      props.column,
      triage,
      (message) => {
        // The kernel refused a label (its rule is the one that counts): say so at the field.
        if (!isLabelsRefusal(message)) return false;
        setRequiresError(message);
        return true;
      },
    );
    setBusy(false);
    if (!result) return;
    if (result.warning) setCreated(result);
    else props.onClose();
  };

  if (created) {
    return (
      <Modal
        // A fresh dialog (not the form's, reused): it takes focus, so Esc and Enter work at once.
        key="created"
        title={`Created ${created.task.id}`}
        testId="create-dialog"
        onClose={props.onClose}
        footer={
          <>
            <Button onClick={() => props.onOpenTask(created.task.id)}>Open task</Button>
            <Button variant="primary" data-autofocus onClick={props.onClose}>
              Close
            </Button>
          </>
        }
      >
        <div
          data-testid="create-warning"
          role="alert"
          className="flex gap-2 rounded-lg border border-warn/50 bg-warn-soft p-3 text-[13px]"
        >
          <WarnIcon className="mt-0.5 shrink-0 text-warn" />
          <div>
            <div className="font-medium">Nothing will dispatch this task yet</div>
            <div className="mt-0.5 text-muted">{created.warning}</div>
          </div>
        </div>
      </Modal>
    );
  }

  return (
    <Modal
      wide
      title={props.column && props.column !== "triage" ? `New task in ${columnLabel(props.column)}` : "New task"}
      testId="create-dialog"
      onClose={props.onClose}
      footer={
        <>
          <span className="mr-auto text-faint text-xs">Enter creates · Esc cancels</span>
          <Button onClick={props.onClose}>Cancel</Button>
          <Button variant="primary" data-testid="create-submit" disabled={busy} onClick={() => void submit()}>
            {unknownAssignee && confirmedFor === assignee.trim() ? "Create anyway" : "Create task"}
          </Button>
        </>
      }
    >
      <form
        className="grid grid-cols-2 gap-3"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
        onKeyDown={(e) => {
          // Enter in a one-line field creates; textareas keep Enter for new lines.
          if (
            e.key === "Enter" &&
            !(e.target instanceof HTMLTextAreaElement) &&
            !(e.target instanceof HTMLSelectElement) &&
            (e.target as HTMLElement).dataset.testid !== "create-parents"
          ) {
            e.preventDefault();
            void submit();
          }
        }}
      >
        <Field label="Title" className="col-span-2">
          <Input
            data-autofocus
            data-testid="create-title"
            value={title}
            onChange={(e) => setTitle(e.target.value)}
            placeholder="What needs doing"
          />
        </Field>
        <Field label="Description (markdown)" className="col-span-2">
          <Textarea data-testid="create-body" rows={4} value={body} onChange={(e) => setBody(e.target.value)} />
        </Field>
        <Field label="Assignee" hint="A profile from config.json, or anyone">
          <Input
            data-testid="create-assignee"
            list={ids.assignees}
            value={assignee}
            onChange={(e) => {
              setAssignee(e.target.value);
              setConfirmedFor(null); // a new name is asked about afresh
            }}
            placeholder="(unassigned)"
          />
          <datalist id={ids.assignees}>
            {names.map((n) => (
              <option key={n} value={n} />
            ))}
          </datalist>
          {unknownAssignee && (
            <p data-testid="create-assignee-warning" className="mt-1 flex gap-1 text-warn text-xs">
              <WarnIcon className="mt-0.5 shrink-0" />
              {unknownAssignee}
            </p>
          )}
        </Field>
        <Field label="Priority" hint="Higher goes first">
          <Input
            data-testid="create-priority"
            type="number"
            value={priority}
            onChange={(e) => setPriority(e.target.value)}
          />
        </Field>
        <Field label="Tenant">
          <Input
            data-testid="create-tenant"
            list={ids.tenants}
            value={tenant}
            onChange={(e) => setTenant(e.target.value)}
          />
          <datalist id={ids.tenants}>
            {props.tenants.map((t) => (
              <option key={t} value={t} />
            ))}
          </datalist>
        </Field>
        <Field label="Skills" hint="Comma-separated">
          <Input
            data-testid="create-skills"
            value={skills}
            onChange={(e) => setSkills(e.target.value)}
            placeholder="e.g. github, testing"
          />
        </Field>
        <Field
          label="Requires"
          hint="Host labels: only a host with all of them runs it (Enter or comma adds)"
          className="col-span-2"
          group
        >
          <LabelsInput
            testId="create-requires"
            value={requires}
            onChange={setRequires}
            error={requiresError}
            onError={setRequiresError}
          />
        </Field>
        <Field label="Parents" hint="Tasks that must finish first (Enter adds)" className="col-span-2" group>
          <div className="flex flex-wrap items-center gap-1">
            {parents.map((p) => (
              <span
                key={p}
                className="inline-flex items-center gap-1 rounded border border-line bg-panel-2 px-1.5 py-0.5 font-mono text-xs"
              >
                {p}
                <button
                  type="button"
                  aria-label={`Remove parent ${p}`}
                  onClick={() => setParents(parents.filter((x) => x !== p))}
                >
                  <XIcon width={11} height={11} />
                </button>
              </span>
            ))}
            <Input
              data-testid="create-parents"
              aria-label="Parent task id"
              list={ids.tasks}
              className="min-w-40 flex-1"
              value={parentInput}
              placeholder="task id"
              onChange={(e) => setParentInput(e.target.value)}
              onKeyDown={(e) => {
                if (e.key === "Enter" || e.key === ",") {
                  e.preventDefault();
                  addParent();
                }
              }}
            />
            <datalist id={ids.tasks}>
              {props.taskOptions.slice(0, 500).map((o) => (
                <option key={o.id} value={o.id}>
                  {o.title}
                </option>
              ))}
            </datalist>
          </div>
        </Field>
        <Field label="Workspace">
          <Select
            data-testid="create-workspace-kind"
            className="w-full"
            value={workspaceKind}
            onChange={(e) => {
              const kind = e.target.value as (typeof WORKSPACE_KINDS)[number];
              setWorkspaceKind(kind);
              if (kind !== "scratch" && !workspacePath && props.defaultWorkdir) setWorkspacePath(props.defaultWorkdir);
            }}
          >
            {WORKSPACE_KINDS.map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </Select>
        </Field>
        <Field
          label="Workspace path"
          hint={workspaceKind === "scratch" ? "Scratch workspaces are created for the task" : "Absolute path"}
        >
          <Input
            data-testid="create-workspace-path"
            disabled={workspaceKind === "scratch"}
            value={workspacePath}
            onChange={(e) => setWorkspacePath(e.target.value)}
            placeholder="/srv/project"
          />
        </Field>
        <Field label="Max runtime (seconds)">
          <Input
            data-testid="create-max-runtime"
            type="number"
            min={1}
            value={maxRuntime}
            onChange={(e) => setMaxRuntime(e.target.value)}
            placeholder="no limit"
          />
        </Field>
        <label className="flex items-center gap-2 self-end pb-1.5 text-[13px]">
          <input
            type="checkbox"
            data-testid="create-triage"
            className="accent-[var(--accent)]"
            checked={triage}
            onChange={(e) => setTriage(e.target.checked)}
          />
          Triage (a specifier fleshes it out first)
        </label>
        {problem && (
          <p role="alert" className="col-span-2 text-danger">
            {problem}
          </p>
        )}
      </form>
    </Modal>
  );
}
