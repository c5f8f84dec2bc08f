"use client";

import { useState } from "react";
import type { LoadProblem } from "../lib/connection.ts";
import { WarnIcon } from "./icons.tsx";
import { Button } from "./ui.tsx";

/**
 * config.json is invalid: the one line the server read from it, and what that means. The server
 * and the dispatcher keep the last valid settings, so the board stays usable meanwhile.
 */
export function ConfigErrorBanner({ error }: { error: string }) {
  return (
    <div
      data-testid="config-error"
      role="alert"
      className="flex gap-2 border-danger/40 border-b bg-danger-soft px-4 py-2 text-danger"
    >
      <WarnIcon className="mt-0.5 shrink-0" />
      <div className="min-w-0">
        <span className="font-medium">config.json has an error: </span>
        <code className="break-words font-mono text-[12px]">{error}</code>
        <div className="text-muted text-xs">
          The server and the dispatcher keep using the last valid settings until the file is fixed; this message goes
          away by itself once it is.
        </div>
      </div>
    </div>
  );
}

/** Entries of config.json that were ignored (a tenant token too short, a Hermes-only key): the operator's to-do. */
export function ConfigWarnings({ warnings }: { warnings: string[] }) {
  const [hidden, setHidden] = useState<string | null>(null);
  const key = warnings.join("\n");
  if (warnings.length === 0 || hidden === key) return null;
  return (
    <div
      data-testid="config-warnings"
      className="flex items-start gap-2 border-line border-b bg-warn-soft px-4 py-1.5 text-xs"
    >
      <WarnIcon className="mt-0.5 shrink-0 text-warn" />
      <ul className="min-w-0 flex-1">
        {warnings.map((w) => (
          <li key={w}>config.json: {w}</li>
        ))}
      </ul>
      <Button size="sm" variant="ghost" onClick={() => setHidden(key)}>
        Hide
      </Button>
    </div>
  );
}

/** The board is on screen but the server stopped answering: say so, and that changes will fail. */
export function OfflineBanner() {
  return (
    <div
      data-testid="server-offline"
      role="alert"
      className="flex gap-2 border-danger/40 border-b bg-danger-soft px-4 py-2 text-danger"
    >
      <WarnIcon className="mt-0.5 shrink-0" />
      <div>
        <span className="font-medium">The Kanban server is not answering.</span>{" "}
        <span className="text-muted">
          What you see may be out of date and changes will fail until it is back. Check the terminal where{" "}
          <code className="font-mono">npm start</code> runs; the page reconnects by itself.
        </span>
      </div>
    </div>
  );
}

/** Instead of an endless "Loading board…": what is wrong and what to do. */
export function LoadProblemPanel({ problem, onRetry }: { problem: LoadProblem; onRetry: () => void }) {
  return (
    <div
      data-testid="server-problem"
      data-kind={problem.kind}
      role="alert"
      className="m-6 max-w-2xl rounded-lg border border-danger/40 bg-danger-soft p-4 text-danger"
    >
      <div className="font-medium">{problem.title}</div>
      <div className="mt-1 text-muted">{problem.detail}</div>
      <Button className="mt-3" onClick={onRetry}>
        Retry now
      </Button>
    </div>
  );
}
