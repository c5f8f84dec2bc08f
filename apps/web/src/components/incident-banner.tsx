"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { RouterOutputs } from "@kanban/api";
import { errorMessage, useTRPC } from "../trpc/react.tsx";
import { WarnIcon } from "./icons.tsx";
import { useToasts } from "./toasts.tsx";
import { Button } from "./ui.tsx";

type Incident = RouterOutputs["incidents"]["list"]["incidents"][number];

/**
 * How often the board asks for open incidents: an incident opens in the dispatcher's tick, between
 * the board's own refreshes, so the banner polls (modestly).
 */
export const INCIDENTS_POLL_MS = 5000;

/** `14:02`: a time of day on the viewer's clock. */
function hhmm(at: number): string {
  return new Date(at * 1000).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
}

/**
 * The banner's sentence, e.g. "Paused: 4 runs of coder failed (transient) since 14:02 — next probe
 * 14:05". Exported for the tests; what it says depends on the incident alone.
 */
export function incidentSentence(i: Incident): string {
  const who = i.scope === "profile" ? `of ${i.scope_key}` : `on host ${i.scope_key}`;
  const runs = `${i.failures} run${i.failures === 1 ? "" : "s"}`;
  const probe =
    i.probe_run_id !== null
      ? "a probe is running"
      : i.next_probe_at !== null
        ? `next probe ${hhmm(i.next_probe_at)}`
        : "waiting for a probe";
  return `Paused: ${runs} ${who} failed (${i.failure_class}) since ${hhmm(i.opened_at)} — ${probe}`;
}

/**
 * One banner per open incident at the top of the board: the profile (or host) is paused because its
 * runs fail the same way; a probe run resumes it by itself, or a person does with Resume now.
 */
export function IncidentBanner({ board }: { board: string | null }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const toasts = useToasts();
  const input = { board: board ?? undefined };
  const incidents = useQuery({
    ...trpc.incidents.list.queryOptions(input),
    refetchInterval: INCIDENTS_POLL_MS,
    retry: false,
  });
  const resume = useMutation(
    trpc.incidents.resume.mutationOptions({
      onSuccess: (r) => {
        toasts.push({
          kind: "success",
          title: `Incident #${r.incident.id} resumed`,
          body: `${r.incident.scope} ${r.incident.scope_key} runs again.`,
        });
      },
      onError: (err) => toasts.push({ kind: "error", title: "Resume failed", body: errorMessage(err) }),
      onSettled: () => void queryClient.invalidateQueries({ queryKey: trpc.incidents.list.queryKey(input) }),
    }),
  );
  const open = incidents.data?.incidents.filter((i) => i.open) ?? [];
  if (open.length === 0) return null;
  return (
    <div data-testid="incident-banners">
      {open.map((i) => (
        <div
          key={i.id}
          role="alert"
          data-testid="incident-banner"
          data-incident={i.id}
          className="flex items-center gap-2 border-warn/40 border-b bg-warn-soft px-4 py-2 text-warn"
        >
          <WarnIcon className="shrink-0" />
          <div className="min-w-0 flex-1">
            <span className="font-medium" data-testid="incident-line">
              {incidentSentence(i)}
            </span>
            {i.last_error && (
              <span className="ml-2 truncate text-muted" title={i.last_error}>
                {i.last_error.split("\n")[0]}
              </span>
            )}
          </div>
          <Button
            data-testid="incident-resume"
            disabled={resume.isPending}
            onClick={() => resume.mutate({ ...input, incident_id: i.id })}
          >
            Resume now
          </Button>
        </div>
      ))}
    </div>
  );
}
