import {
  type ButtonHTMLAttributes,
  forwardRef,
  type InputHTMLAttributes,
  type ReactNode,
  type SelectHTMLAttributes,
  type TextareaHTMLAttributes,
} from "react";

export function cx(...parts: (string | false | null | undefined)[]): string {
  return parts.filter(Boolean).join(" ");
}

type Variant = "default" | "primary" | "ghost" | "danger" | "subtle";

const VARIANT: Record<Variant, string> = {
  default: "border border-line bg-panel hover:bg-hover text-fg shadow-card",
  primary: "bg-accent text-accent-fg hover:brightness-110 shadow-card",
  ghost: "text-muted hover:bg-hover hover:text-fg",
  subtle: "bg-panel-2 text-fg hover:bg-hover",
  danger: "border border-danger/40 bg-danger-soft text-danger hover:brightness-105",
};

export const Button = forwardRef<
  HTMLButtonElement,
  ButtonHTMLAttributes<HTMLButtonElement> & { variant?: Variant; size?: "sm" | "md" }
>(function Button({ variant = "default", size = "md", className, type = "button", ...rest }, ref) {
  return (
    <button
      ref={ref}
      type={type}
      className={cx(
        "inline-flex select-none items-center justify-center gap-1.5 whitespace-nowrap rounded-md font-medium transition-colors disabled:cursor-not-allowed disabled:opacity-50",
        size === "sm" ? "h-6 px-2 text-xs" : "h-7 px-2.5 text-[13px]",
        VARIANT[variant],
        className,
      )}
      {...rest}
    />
  );
});

/** Full width unless the caller sets a width of its own (Tailwind would otherwise pick by CSS order). */
function widthOr(className: string | undefined): string {
  return className && /(^|\s)(w-|min-w-|flex-1)/.test(className) ? "" : "w-full";
}

export const Input = forwardRef<HTMLInputElement, InputHTMLAttributes<HTMLInputElement>>(function Input(
  { className, ...rest },
  ref,
) {
  return (
    <input
      ref={ref}
      className={cx(
        "h-7 rounded-md",
        widthOr(className),
        "border border-line bg-panel px-2 text-[13px] text-fg placeholder:text-faint focus:border-accent focus:outline-none focus-visible:outline-none focus:ring-2 focus:ring-accent/25",
        className,
      )}
      {...rest}
    />
  );
});

export const Textarea = forwardRef<HTMLTextAreaElement, TextareaHTMLAttributes<HTMLTextAreaElement>>(function Textarea(
  { className, ...rest },
  ref,
) {
  return (
    <textarea
      ref={ref}
      className={cx(
        "w-full rounded-md border border-line bg-panel px-2 py-1.5 text-[13px] text-fg placeholder:text-faint focus:border-accent focus:outline-none focus-visible:outline-none focus:ring-2 focus:ring-accent/25",
        className,
      )}
      {...rest}
    />
  );
});

export const Select = forwardRef<HTMLSelectElement, SelectHTMLAttributes<HTMLSelectElement>>(function Select(
  { className, ...rest },
  ref,
) {
  return (
    <select
      ref={ref}
      className={cx(
        "h-7 rounded-md border border-line bg-panel px-1.5 text-[13px] text-fg focus:border-accent focus:outline-none focus-visible:outline-none focus:ring-2 focus:ring-accent/25",
        className,
      )}
      {...rest}
    />
  );
});

/**
 * A labelled form control: the label text is always there for screen readers. `group` is for a
 * control made of several (chips with remove buttons and a text field): a <label> would hand a
 * click on its text to its first button (removing a chip), so a fieldset with a legend is used instead.
 */
export function Field({
  label,
  hint,
  children,
  className,
  group,
}: {
  label: string;
  hint?: ReactNode;
  children: ReactNode;
  className?: string;
  group?: boolean;
}) {
  if (group) {
    return (
      <fieldset className={cx("block min-w-0 space-y-1", className)}>
        <legend className="mb-1 block font-medium text-muted text-xs">{label}</legend>
        {children}
        {hint && <span className="block text-faint text-xs">{hint}</span>}
      </fieldset>
    );
  }
  return (
    // biome-ignore lint/a11y/noLabelWithoutControl: the control is passed as children, inside the label
    <label className={cx("block space-y-1", className)}>
      <span className="block font-medium text-muted text-xs">{label}</span>
      {children}
      {hint && <span className="block text-faint text-xs">{hint}</span>}
    </label>
  );
}

export function Chip({
  children,
  className,
  title,
  ...rest
}: {
  children: ReactNode;
  className?: string;
  title?: string;
  "data-testid"?: string;
}) {
  return (
    <span
      title={title}
      className={cx(
        "inline-flex max-w-full items-center gap-1 truncate rounded px-1.5 py-px text-[11px] leading-4 ring-1 ring-inset",
        className ?? "bg-panel-2 text-muted ring-line",
      )}
      {...rest}
    >
      {children}
    </span>
  );
}

export function Kbd({ children }: { children: ReactNode }) {
  return (
    <kbd className="inline-flex h-5 min-w-5 items-center justify-center rounded border border-line bg-panel-2 px-1 font-mono text-[11px] text-muted">
      {children}
    </kbd>
  );
}

export function Spinner({ className }: { className?: string }) {
  return (
    <span
      aria-hidden
      className={cx(
        "inline-block size-3 animate-spin rounded-full border-2 border-current border-t-transparent",
        className,
      )}
    />
  );
}

export function SectionTitle({ children, right }: { children: ReactNode; right?: ReactNode }) {
  return (
    <div className="mb-1.5 flex items-center justify-between">
      <h3 className="font-semibold text-[11px] text-muted uppercase tracking-wide">{children}</h3>
      {right}
    </div>
  );
}
