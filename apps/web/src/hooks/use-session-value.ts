"use client";

import { useCallback, useEffect, useState } from "react";

/**
 * A value kept in sessionStorage under `key` as JSON (null until set). `parse` vets what was stored
 * (another version of the board may have written something else) and must be stable, e.g. a module
 * function.
 */
export function useSessionValue<T>(key: string, parse: (raw: unknown) => T | null): [T | null, (v: T | null) => void] {
  const [value, setValue] = useState<T | null>(null);
  useEffect(() => {
    try {
      const raw = window.sessionStorage.getItem(key);
      setValue(raw ? parse(JSON.parse(raw)) : null);
    } catch {
      setValue(null);
    }
  }, [key, parse]);
  const set = useCallback(
    (v: T | null) => {
      setValue(v);
      try {
        if (v === null) window.sessionStorage.removeItem(key);
        else window.sessionStorage.setItem(key, JSON.stringify(v));
      } catch {
        // Storage unavailable: the choice lasts until reload.
      }
    },
    [key],
  );
  return [value, set];
}
