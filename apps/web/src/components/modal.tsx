"use client";

import { type ReactNode, useEffect, useId, useRef } from "react";
import { XIcon } from "./icons.tsx";
import { cx } from "./ui.tsx";

/** How many modals are open: the board's shortcuts stay quiet while one is. */
let openModals = 0;
export function isModalOpen(): boolean {
  return openModals > 0;
}

const FOCUSABLE =
  'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/**
 * A centred dialog: labelled by its title, Esc and the backdrop close it, Tab stays inside, and
 * focus returns to where it was when it closes.
 */
export function Modal({
  title,
  onClose,
  children,
  footer,
  wide,
  testId,
  describedBy,
}: {
  title: ReactNode;
  onClose: () => void;
  children: ReactNode;
  footer?: ReactNode;
  wide?: boolean;
  testId?: string;
  describedBy?: string;
}) {
  const id = useId();
  const ref = useRef<HTMLDivElement>(null);
  const onCloseRef = useRef(onClose);
  onCloseRef.current = onClose;

  useEffect(() => {
    openModals++;
    const previous = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    const el = ref.current;
    const first =
      el?.querySelector<HTMLElement>("[autofocus], [data-autofocus]") ?? el?.querySelector<HTMLElement>(FOCUSABLE);
    first?.focus();
    return () => {
      openModals--;
      previous?.focus({ preventScroll: true });
    };
  }, []);

  return (
    <div className="fixed inset-0 z-50 flex items-start justify-center overflow-y-auto bg-black/35 p-4 pt-[10vh]">
      {/* The backdrop is a button so that closing by clicking outside is reachable without a pointer too. */}
      <button
        type="button"
        tabIndex={-1}
        aria-label="Close dialog"
        className="fixed inset-0 cursor-default"
        onClick={() => onCloseRef.current()}
      />
      <div
        ref={ref}
        role="dialog"
        aria-modal="true"
        aria-labelledby={id}
        aria-describedby={describedBy}
        data-testid={testId}
        className={cx(
          "relative w-full rounded-xl border border-line bg-panel shadow-pop",
          wide ? "max-w-2xl" : "max-w-md",
        )}
        onKeyDown={(e) => {
          if (e.key === "Escape") {
            e.stopPropagation();
            e.preventDefault();
            onCloseRef.current();
            return;
          }
          if (e.key === "Tab" && ref.current) {
            const items = [...ref.current.querySelectorAll<HTMLElement>(FOCUSABLE)];
            const firstItem = items[0];
            const lastItem = items[items.length - 1];
            if (!firstItem || !lastItem) return;
            if (e.shiftKey && document.activeElement === firstItem) {
              e.preventDefault();
              lastItem.focus();
            } else if (!e.shiftKey && document.activeElement === lastItem) {
              e.preventDefault();
              firstItem.focus();
            }
          }
        }}
      >
        <div className="flex items-center justify-between border-line border-b px-4 py-3">
          <h2 id={id} className="font-semibold text-[14px]">
            {title}
          </h2>
          <button
            type="button"
            aria-label="Close"
            className="rounded p-1 text-faint hover:bg-hover hover:text-fg"
            onClick={() => onCloseRef.current()}
          >
            <XIcon />
          </button>
        </div>
        <div className="px-4 py-3">{children}</div>
        {footer && <div className="flex items-center justify-end gap-2 border-line border-t px-4 py-3">{footer}</div>}
      </div>
    </div>
  );
}
