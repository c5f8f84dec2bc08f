"use client";

import type { RouterOutputs } from "@kanban/api";
import { useQuery } from "@tanstack/react-query";
import { lazy, Suspense, useId, useState } from "react";
import { useNow } from "../hooks/use-now.ts";
import { useRefetchOnChange } from "../hooks/use-refetch-on-change.ts";
import { ago, stamp } from "../lib/format.ts";
import {
  changeDetail,
  commandDetail,
  commandEnding,
  commandsText,
  durationLabel,
  fileStatusWord,
  type GateStage,
  gateSourceLabel,
  parseCommandsText,
  stageLine,
} from "../lib/gates.ts";
import { errorMessage, useTRPC, useTRPCClient } from "../trpc/react.tsx";
import type { DrawerContext } from "./drawer-sections.tsx";
import { Button, Chip, cx, Input, SectionTitle, Textarea } from "./ui.tsx";

// The drawer's "Gates" (issue 20): what a card must pass before it is done, where its round under
// test waits, and the evidence of its latest rounds (command results, verdicts, the change judged).

export type CardGates = RouterOutputs["gates"]["card"];
type Round = CardGates["rounds"][number];
type Item = Round["items"][number];
type Spec = NonNullable<CardGates["gates"]>["spec"];

// The diff renderer and its grammars load only when a drawer shows a change.
const DiffView = lazy(() => import("./diff-view.tsx"));

/** The card's gates and evidence; the drawer's Approve reads the same query (one request). */
export function useCardGates(ctx: Pick<DrawerContext, "board" | "id">) {
  const trpc = useTRPC();
  return useQuery(trpc.gates.card.queryOptions({ board: ctx.board, id: ctx.id }));
}

const OUTCOME_LOOK: Record<string, { mark: string; cls: string }> = {
  passed: { mark: "✓", cls: "text-ok" },
  failed: { mark: "✗", cls: "text-danger" },
  error: { mark: "!", cls: "text-danger" },
  recorded: { mark: "•", cls: "text-muted" },
};

function look(outcome: string) {
  return OUTCOME_LOOK[outcome] ?? { mark: "•", cls: "text-muted" };
}

function SpecChips({ spec }: { spec: Spec }) {
  return (
    <div className="flex flex-wrap gap-1" data-testid="gates-spec">
      {spec.commands.map((c) => (
        <Chip key={c.name} title={`${c.argv.join(" ")} · timeout ${c.timeout_seconds} s`} className="font-mono">
          $ {c.name}
        </Chip>
      ))}
      {spec.reviewer !== null && <Chip>reviewer {spec.reviewer}</Chip>}
      {spec.approval && <Chip>a person's approval</Chip>}
    </div>
  );
}

function CommandItem({ item }: { item: Item }) {
  const d = commandDetail(item.detail);
  const l = look(item.outcome);
  return (
    <li data-testid="gate-command" data-outcome={item.outcome} className="space-y-1">
      <div className="flex flex-wrap items-center gap-x-2 text-xs">
        <span className={cx("font-semibold", l.cls)}>
          {l.mark} {item.outcome}
        </span>
        <span className="font-mono">{item.name}</span>
        <span className="text-muted">{commandEnding(d)}</span>
        {d.duration_ms !== null && <span className="text-faint">{durationLabel(d.duration_ms)}</span>}
      </div>
      {d.argv.length > 0 && <div className="font-mono text-[11px] text-faint">$ {d.argv.join(" ")}</div>}
      {item.body && (
        <pre
          data-testid="gate-command-output"
          className="max-h-56 overflow-auto whitespace-pre-wrap break-words rounded bg-panel-2 p-2 font-mono text-[11px]"
        >
          {item.body}
        </pre>
      )}
    </li>
  );
}

function VerdictItem({ item }: { item: Item }) {
  const l = look(item.outcome);
  const reason = typeof item.detail?.reason === "string" ? item.detail.reason : null;
  const summary = typeof item.detail?.summary === "string" ? item.detail.summary : null;
  const what = item.gate === "reviewer" ? "review" : "approval";
  return (
    <li data-testid={`gate-${item.gate}`} data-outcome={item.outcome} className="text-xs">
      <span className={cx("font-semibold", l.cls)}>
        {l.mark} {what} {item.outcome === "passed" ? "given" : "refused"}
      </span>{" "}
      by <span className="font-medium">{item.name}</span>
      {(reason ?? summary) && <p className="mt-0.5 whitespace-pre-wrap break-words text-muted">{reason ?? summary}</p>}
    </li>
  );
}

function ChangeItem({ item }: { item: Item }) {
  const d = changeDetail(item.detail);
  const [showDiff, setShowDiff] = useState(true);
  return (
    <li data-testid="gate-change" className="space-y-1.5">
      <div className="flex flex-wrap items-center gap-x-2 text-xs">
        <span className="font-semibold text-muted">Change</span>
        <span className="text-muted">
          {d.files.length} {d.files.length === 1 ? "file" : "files"}
          {d.base ? ` against ${d.base.slice(0, 12)}` : " in the working tree"}
          {d.truncated && " (cut: the diff was too long to keep whole)"}
        </span>
        <span className="flex-1" />
        {item.body && (
          <Button size="sm" variant="ghost" onClick={() => setShowDiff(!showDiff)}>
            {showDiff ? "Hide diff" : "Show diff"}
          </Button>
        )}
      </div>
      <ul className="space-y-0.5 font-mono text-[11px]" data-testid="gate-change-files">
        {d.files.map((f) => (
          <li key={f.path} data-testid="gate-change-file" data-status={f.status} className="flex gap-2">
            <span className="w-20 shrink-0 text-faint" title={f.status}>
              {fileStatusWord(f.status)}
            </span>
            <span className="min-w-0 break-all">{f.path}</span>
          </li>
        ))}
      </ul>
      {item.body && showDiff && (
        <Suspense fallback={<p className="text-faint text-xs">Loading the diff…</p>}>
          <DiffView text={item.body} />
        </Suspense>
      )}
    </li>
  );
}

function RoundBlock({ round, live, now }: { round: Round; live: boolean; now: number }) {
  const first = round.items[0]?.created_at;
  const order = (i: Item) => (i.gate === "change" ? 1 : 0);
  const items = [...round.items].sort((a, b) => order(a) - order(b));
  return (
    <li data-testid="gate-round" data-round={round.round} className="rounded-md border border-line bg-panel p-2.5">
      <div className="mb-1.5 flex items-center gap-2 text-xs">
        <span className="font-medium">Round · run #{round.round}</span>
        {live && <span className="text-amber-600 dark:text-amber-300">under test</span>}
        <span className="flex-1" />
        {first !== undefined && (
          <span className="text-faint" title={stamp(first)}>
            {ago(first, now)}
          </span>
        )}
      </div>
      <ul className="space-y-2">
        {items.map((item) =>
          item.gate === "command" ? (
            <CommandItem key={`${item.gate}:${item.name}:${item.created_at}`} item={item} />
          ) : item.gate === "change" ? (
            <ChangeItem key={`${item.gate}:${item.created_at}`} item={item} />
          ) : (
            <VerdictItem key={`${item.gate}:${item.name}:${item.created_at}`} item={item} />
          ),
        )}
      </ul>
    </li>
  );
}

/**
 * Puts gates on the card: commands one per line (split on spaces, quotes kept), a reviewer profile
 * and a person's approval. The kernel checks the spec; its refusal is shown under the form.
 */
function GatesEditor({ ctx, data, onDone }: { ctx: DrawerContext; data: CardGates; onDone: () => void }) {
  const client = useTRPCClient();
  const spec = data.gates?.spec;
  const [commands, setCommands] = useState(commandsText(spec?.commands ?? []));
  const [reviewer, setReviewer] = useState(spec?.reviewer ?? "");
  const [approval, setApproval] = useState(spec?.approval ?? false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const onCard = data.gates?.scope === "card";
  const commandsId = useId();
  const reviewerId = useId();

  const save = async () => {
    const parsed = parseCommandsText(commands);
    if ("error" in parsed) {
      setError(`Commands, ${parsed.error}`);
      return;
    }
    // A command kept as it was keeps its name and timeout; a new one is named after its argv.
    const kept = parsed.commands.map((argv) => {
      const same = spec?.commands.find((c) => c.argv.join("\u0000") === argv.join("\u0000"));
      return same ? { name: same.name, argv, timeout_seconds: same.timeout_seconds } : argv;
    });
    setBusy(true);
    try {
      await client.gates.set.mutate({
        board: ctx.board,
        scope: "card",
        key: ctx.id,
        spec: { commands: kept, reviewer: reviewer.trim() === "" ? null : reviewer.trim(), approval },
      });
      setError(null);
      onDone();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
      ctx.refresh([ctx.id]);
    }
  };
  const clear = async () => {
    setBusy(true);
    try {
      await client.gates.clear.mutate({ board: ctx.board, scope: "card", key: ctx.id });
      setError(null);
      onDone();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
      ctx.refresh([ctx.id]);
    }
  };

  return (
    <div data-testid="gates-editor" className="space-y-2 rounded-md border border-line bg-panel p-2.5 text-xs">
      <div className="space-y-1">
        <label htmlFor={commandsId} className="block text-muted">
          Acceptance commands, one per line (run in the card's workspace, no shell)
        </label>
        <Textarea
          id={commandsId}
          rows={3}
          data-testid="gates-commands"
          className="font-mono text-xs"
          placeholder={'npm test\nnpm run lint -- "src/**"'}
          value={commands}
          onChange={(e) => setCommands(e.target.value)}
        />
      </div>
      <div className="flex items-center gap-2">
        <label htmlFor={reviewerId} className="w-28 shrink-0 text-muted">
          Reviewer profile
        </label>
        <Input
          id={reviewerId}
          data-testid="gates-reviewer"
          className="w-48"
          placeholder="none"
          value={reviewer}
          onChange={(e) => setReviewer(e.target.value)}
        />
      </div>
      <label className="inline-flex items-center gap-1.5">
        <input
          type="checkbox"
          data-testid="gates-approval"
          checked={approval}
          onChange={(e) => setApproval(e.target.checked)}
          className="accent-[var(--accent)]"
        />
        Needs a person's approval
      </label>
      <p className="text-faint">
        Saving puts these gates on this card, over its profile's and the board's; saved empty, the card has none.
      </p>
      {error && (
        <p data-testid="gates-error" role="alert" className="text-danger">
          {error}
        </p>
      )}
      <div className="flex flex-wrap justify-end gap-1.5">
        {onCard && (
          <Button size="sm" variant="danger" data-testid="gates-clear" disabled={busy} onClick={() => void clear()}>
            Remove the card's gates
          </Button>
        )}
        <span className="flex-1" />
        <Button size="sm" onClick={onDone} disabled={busy}>
          Cancel
        </Button>
        <Button size="sm" variant="primary" data-testid="gates-save" disabled={busy} onClick={() => void save()}>
          Save gates
        </Button>
      </div>
    </div>
  );
}

export function GatesSection({ ctx }: { ctx: DrawerContext }) {
  const q = useCardGates(ctx);
  const now = useNow();
  const [editing, setEditing] = useState(false);
  // A live event reloads the task; its gates and evidence may have moved with it.
  useRefetchOnChange(ctx.detail, q);
  const data = q.data;
  const gates = data?.gates ?? null;
  const v = data?.verification ?? null;

  return (
    <section data-testid="gates" data-stage={v?.stage ?? ""}>
      <SectionTitle
        right={
          data &&
          !editing && (
            <Button size="sm" variant="ghost" data-testid="gates-edit" onClick={() => setEditing(true)}>
              {gates?.scope === "card" ? "Edit" : "Set gates"}
            </Button>
          )
        }
      >
        Gates
      </SectionTitle>
      {q.error && <p className="text-danger text-xs">{errorMessage(q.error)}</p>}
      {!data && !q.error && <p className="text-faint text-xs">Loading…</p>}
      {data && (
        <div className="space-y-2">
          {gates ? (
            <div className="flex flex-wrap items-center gap-2 text-xs">
              <SpecChips spec={gates.spec} />
              <span data-testid="gates-source" className="text-faint">
                {gateSourceLabel(gates.scope, gates.key)}
              </span>
            </div>
          ) : (
            <p className="text-faint text-xs">No gates: a completion makes the card done.</p>
          )}
          {v && (
            <p
              data-testid="gates-stage"
              className="rounded-md border border-amber-500/40 bg-amber-500/10 px-2.5 py-1.5 text-[13px]"
            >
              <span className="font-medium">{stageLine(v.stage as GateStage, gates?.spec.reviewer)}</span>
              <span className="text-muted text-xs">
                {" "}
                · round run #{v.round}
                {v.implementer && ` by ${v.implementer}`} · since {ago(v.started_at, now)}
              </span>
            </p>
          )}
          {editing && <GatesEditor ctx={ctx} data={data} onDone={() => setEditing(false)} />}
          {data.rounds.length > 0 && (
            <ol className="space-y-2" data-testid="gate-rounds">
              {data.rounds.map((r) => (
                <RoundBlock key={r.round} round={r} live={v?.round === r.round} now={now} />
              ))}
            </ol>
          )}
        </div>
      )}
    </section>
  );
}
