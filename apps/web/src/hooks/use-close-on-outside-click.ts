import { type RefObject, useEffect } from "react";

/** While `open`, a mouse press outside `ref`'s element closes the menu or popover it holds. */
export function useCloseOnOutsideClick(
  ref: RefObject<HTMLElement | null>,
  open: boolean,
  setOpen: (open: boolean) => void,
): void {
  useEffect(() => {
    if (!open) return;
    const close = (e: MouseEvent) => {
      if (ref.current && !ref.current.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener("mousedown", close);
    return () => document.removeEventListener("mousedown", close);
  }, [open, ref, setOpen]);
}
