"use client";

import { createContext, type ReactNode, useCallback, useContext, useId, useMemo, useState } from "react";
import { Modal } from "./modal.tsx";
import { Button, Field, Input, Select, Textarea } from "./ui.tsx";
import { onEnter } from "../lib/keyboard.ts";

export interface ConfirmOptions {
  title: string;
  body?: string;
  confirmLabel?: string;
  danger?: boolean;
  /** Ask for an optional free-text reason along with the confirmation. */
  reason?: { label: string };
}

export interface PromptOptions {
  title: string;
  body?: string;
  label: string;
  required?: boolean;
  multiline?: boolean;
  confirmLabel?: string;
  initial?: string;
}

export interface ChooseOptions {
  title: string;
  body?: string;
  label: string;
  /** What can be chosen; nothing is preselected, so a choice is always deliberate. */
  options: string[];
  confirmLabel?: string;
}

interface DialogApi {
  confirm(opts: ConfirmOptions): Promise<{ ok: boolean; reason: string }>;
  prompt(opts: PromptOptions): Promise<string | null>;
  choose(opts: ChooseOptions): Promise<string | null>;
}

type Pending =
  | { kind: "confirm"; opts: ConfirmOptions; resolve: (r: { ok: boolean; reason: string }) => void }
  | { kind: "prompt"; opts: PromptOptions; resolve: (v: string | null) => void }
  | { kind: "choose"; opts: ChooseOptions; resolve: (v: string | null) => void };

const Ctx = createContext<DialogApi | null>(null);

export function useDialogs(): DialogApi {
  const api = useContext(Ctx);
  if (!api) throw new Error("useDialogs() needs <DialogProvider>");
  return api;
}

function ConfirmDialog({ opts, done }: { opts: ConfirmOptions; done: (r: { ok: boolean; reason: string }) => void }) {
  const [reason, setReason] = useState("");
  const bodyId = useId();
  return (
    <Modal
      title={opts.title}
      testId="confirm-dialog"
      describedBy={bodyId}
      onClose={() => done({ ok: false, reason: "" })}
      footer={
        <>
          <Button data-testid="confirm-cancel" onClick={() => done({ ok: false, reason: "" })}>
            Cancel
          </Button>
          <Button
            data-testid="confirm-ok"
            variant={opts.danger ? "danger" : "primary"}
            data-autofocus={opts.reason ? undefined : true}
            onClick={() => done({ ok: true, reason })}
          >
            {opts.confirmLabel ?? "Confirm"}
          </Button>
        </>
      }
    >
      {opts.body && (
        <p id={bodyId} className="text-muted">
          {opts.body}
        </p>
      )}
      {opts.reason && (
        <Field label={opts.reason.label} className="mt-3">
          <Input
            data-autofocus
            data-testid="confirm-reason"
            value={reason}
            onChange={(e) => setReason(e.target.value)}
            onKeyDown={onEnter(() => done({ ok: true, reason }))}
          />
        </Field>
      )}
    </Modal>
  );
}

function PromptDialog({ opts, done }: { opts: PromptOptions; done: (v: string | null) => void }) {
  const [value, setValue] = useState(opts.initial ?? "");
  const [touched, setTouched] = useState(false);
  const missing = opts.required === true && value.trim() === "";
  const submit = () => {
    setTouched(true);
    if (!missing) done(value.trim());
  };
  return (
    <Modal
      title={opts.title}
      testId="prompt-dialog"
      onClose={() => done(null)}
      footer={
        <>
          <Button onClick={() => done(null)}>Cancel</Button>
          <Button data-testid="prompt-ok" variant="primary" onClick={submit}>
            {opts.confirmLabel ?? "OK"}
          </Button>
        </>
      }
    >
      {opts.body && <p className="mb-3 text-muted">{opts.body}</p>}
      <Field
        label={opts.label}
        hint={touched && missing ? <span className="text-danger">{opts.label} is required</span> : undefined}
      >
        {opts.multiline ? (
          <Textarea
            data-autofocus
            data-testid="prompt-input"
            rows={4}
            value={value}
            onChange={(e) => setValue(e.target.value)}
            onKeyDown={(e) => {
              // Enter submits, Shift+Enter is a new line (as in the comment box).
              if (e.key === "Enter" && !e.shiftKey) {
                e.preventDefault();
                submit();
              }
            }}
          />
        ) : (
          <Input
            data-autofocus
            data-testid="prompt-input"
            value={value}
            onChange={(e) => setValue(e.target.value)}
            onKeyDown={onEnter(() => submit())}
          />
        )}
      </Field>
    </Modal>
  );
}

function ChooseDialog({ opts, done }: { opts: ChooseOptions; done: (v: string | null) => void }) {
  const [value, setValue] = useState("");
  return (
    <Modal
      title={opts.title}
      testId="choose-dialog"
      onClose={() => done(null)}
      footer={
        <>
          <Button onClick={() => done(null)}>Cancel</Button>
          <Button data-testid="choose-ok" variant="primary" disabled={value === ""} onClick={() => done(value)}>
            {opts.confirmLabel ?? "OK"}
          </Button>
        </>
      }
    >
      {opts.body && <p className="mb-3 text-muted">{opts.body}</p>}
      <Field label={opts.label}>
        <Select
          data-autofocus
          data-testid="choose-select"
          className="w-full"
          value={value}
          onChange={(e) => setValue(e.target.value)}
        >
          <option value="" disabled>
            Choose…
          </option>
          {opts.options.map((o) => (
            <option key={o} value={o}>
              {o}
            </option>
          ))}
        </Select>
      </Field>
    </Modal>
  );
}

/** Promise-based confirm, prompt and choose dialogs, one at a time, so flows read top to bottom. */
export function DialogProvider({ children }: { children: ReactNode }) {
  const [pending, setPending] = useState<Pending | null>(null);
  const confirm = useCallback(
    (opts: ConfirmOptions) =>
      new Promise<{ ok: boolean; reason: string }>((resolve) => setPending({ kind: "confirm", opts, resolve })),
    [],
  );
  const prompt = useCallback(
    (opts: PromptOptions) => new Promise<string | null>((resolve) => setPending({ kind: "prompt", opts, resolve })),
    [],
  );
  const choose = useCallback(
    (opts: ChooseOptions) => new Promise<string | null>((resolve) => setPending({ kind: "choose", opts, resolve })),
    [],
  );
  const api = useMemo(() => ({ confirm, prompt, choose }), [confirm, prompt, choose]);
  return (
    <Ctx.Provider value={api}>
      {children}
      {pending?.kind === "confirm" && (
        <ConfirmDialog
          opts={pending.opts}
          done={(r) => {
            setPending(null);
            pending.resolve(r);
          }}
        />
      )}
      {pending?.kind === "choose" && (
        <ChooseDialog
          opts={pending.opts}
          done={(v) => {
            setPending(null);
            pending.resolve(v);
          }}
        />
      )}
      {pending?.kind === "prompt" && (
        <PromptDialog
          opts={pending.opts}
          done={(v) => {
            setPending(null);
            pending.resolve(v);
          }}
        />
      )}
    </Ctx.Provider>
  );
}
