"use client";

import { useState } from "react";
import { addLabels } from "../lib/labels.ts";
import { XIcon } from "./icons.tsx";
import { Chip, cx, Input } from "./ui.tsx";

/** The look of a required host label, the same on the card, in the drawer and in the forms. */
export const LABEL_CHIP =
  "bg-sky-50 text-sky-800 ring-sky-200 dark:bg-sky-500/10 dark:text-sky-200 dark:ring-sky-500/30";

/** Required host labels as chips, read-only (the card, the hosts view). */
export function LabelChips({
  labels,
  testId,
  title = "Required host label",
  max,
}: {
  labels: readonly string[];
  testId?: string;
  title?: string;
  /** Show at most this many, then "+N". */
  max?: number;
}) {
  if (labels.length === 0) return null;
  const shown = max === undefined ? labels : labels.slice(0, max);
  return (
    <>
      {shown.map((l) => (
        <Chip key={l} data-testid={testId} className={LABEL_CHIP} title={title}>
          {l}
        </Chip>
      ))}
      {shown.length < labels.length && <span className="text-[11px] text-faint">+{labels.length - shown.length}</span>}
    </>
  );
}

/**
 * A chips input for the labels a task requires of its host: Enter, comma or space adds what was
 * typed (checked against the kernel's rule as it is added), Backspace in the empty field takes the
 * last chip back, × removes one. `error` (the field's own, or the server's refusal) shows under it.
 */
export function LabelsInput({
  value,
  onChange,
  error,
  onError,
  testId,
  ariaLabel = "Required host labels",
  className,
}: {
  value: string[];
  onChange: (labels: string[]) => void;
  error: string | null;
  onError: (error: string | null) => void;
  /** `<testId>` on the text field, `<testId>-chip` on each chip, `<testId>-error` on the error. */
  testId: string;
  ariaLabel?: string;
  className?: string;
}) {
  const [text, setText] = useState("");
  const commit = (typed: string): string[] => {
    const r = addLabels(value, typed);
    if (r.labels.length !== value.length) onChange(r.labels);
    onError(r.error);
    // A refused label stays in the field to be corrected; an accepted one leaves it.
    setText(r.error ? typed.trim() : "");
    return r.labels;
  };
  return (
    <div className={cx("space-y-1", className)}>
      <div className="flex flex-wrap items-center gap-1">
        {value.map((l) => (
          <span
            key={l}
            data-testid={`${testId}-chip`}
            className={cx(
              "inline-flex items-center gap-1 rounded px-1.5 py-0.5 font-mono text-xs ring-1 ring-inset",
              LABEL_CHIP,
            )}
          >
            {l}
            <button
              type="button"
              aria-label={`Remove label ${l}`}
              onClick={() => {
                onChange(value.filter((x) => x !== l));
                onError(null);
              }}
            >
              <XIcon width={11} height={11} />
            </button>
          </span>
        ))}
        <Input
          data-testid={testId}
          aria-label={ariaLabel}
          aria-invalid={error ? true : undefined}
          className={cx("min-w-32 flex-1", error && "border-danger")}
          value={text}
          placeholder={value.length === 0 ? "none: any host (e.g. macos, gpu)" : "add a label"}
          onChange={(e) => {
            const v = e.target.value;
            // Pasting "a, b" or typing a separator adds what came before it.
            if (/[\s,]$/.test(v) && v.trim() !== "") commit(v);
            else {
              setText(v);
              if (error) onError(null);
            }
          }}
          onKeyDown={(e) => {
            if (e.key === "Enter" && text.trim() !== "") {
              // Enter adds the chip; it does not submit the form around the field.
              e.preventDefault();
              e.stopPropagation();
              commit(text);
            } else if (e.key === "Backspace" && text === "" && value.length > 0) {
              e.preventDefault();
              onChange(value.slice(0, -1));
              onError(null);
            }
          }}
          onBlur={() => {
            if (text.trim() !== "") commit(text);
          }}
        />
      </div>
      {error && (
        <p role="alert" data-testid={`${testId}-error`} className="text-danger text-xs">
          {error}
        </p>
      )}
    </div>
  );
}
