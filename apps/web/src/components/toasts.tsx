"use client";

import { createContext, type ReactNode, useCallback, useContext, useMemo, useRef, useState } from "react";
import { XIcon } from "./icons.tsx";
import { cx } from "./ui.tsx";

export type ToastKind = "error" | "warning" | "info" | "success";

interface Toast {
  id: number;
  kind: ToastKind;
  title: string;
  body?: string;
}

interface ToastApi {
  push(t: Omit<Toast, "id">, ttlMs?: number): void;
}

const Ctx = createContext<ToastApi | null>(null);

export function useToasts(): ToastApi {
  const api = useContext(Ctx);
  if (!api) throw new Error("useToasts() needs <ToastProvider>");
  return api;
}

const KIND_CLASS: Record<ToastKind, string> = {
  error: "border-danger/50",
  warning: "border-warn/60",
  info: "border-line",
  success: "border-ok/50",
};

const DOT: Record<ToastKind, string> = { error: "bg-danger", warning: "bg-warn", info: "bg-accent", success: "bg-ok" };

/** Short messages in the corner; errors stay longer so the server's reason can be read. */
export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const next = useRef(1);
  const dismiss = useCallback((id: number) => setToasts((ts) => ts.filter((t) => t.id !== id)), []);
  const push = useCallback(
    (t: Omit<Toast, "id">, ttlMs?: number) => {
      const id = next.current++;
      setToasts((ts) => [...ts.slice(-4), { ...t, id }]);
      const ttl = ttlMs ?? (t.kind === "error" || t.kind === "warning" ? 12_000 : 4_000);
      setTimeout(() => dismiss(id), ttl);
    },
    [dismiss],
  );
  const api = useMemo(() => ({ push }), [push]);
  return (
    <Ctx.Provider value={api}>
      {children}
      <div
        style={{ bottom: "calc(var(--toast-offset, 0px) + 1rem)" }}
        className="pointer-events-none fixed right-4 z-[60] flex w-[min(420px,calc(100vw-2rem))] flex-col gap-2"
        aria-live="polite"
      >
        {toasts.map((t) => (
          <div
            key={t.id}
            role={t.kind === "error" ? "alert" : "status"}
            data-testid="toast"
            data-kind={t.kind}
            className={cx(
              "pointer-events-auto flex items-start gap-2 rounded-lg border bg-panel p-3 shadow-pop",
              KIND_CLASS[t.kind],
            )}
          >
            <span className={cx("mt-1.5 size-2 shrink-0 rounded-full", DOT[t.kind])} />
            <div className="min-w-0 flex-1">
              <div className="font-medium">{t.title}</div>
              {t.body && <div className="mt-0.5 break-words text-muted">{t.body}</div>}
            </div>
            <button
              type="button"
              aria-label="Dismiss"
              className="rounded p-0.5 text-faint hover:text-fg"
              onClick={() => dismiss(t.id)}
            >
              <XIcon />
            </button>
          </div>
        ))}
      </div>
    </Ctx.Provider>
  );
}
