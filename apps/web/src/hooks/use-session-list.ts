"use client";

import { useCallback, useEffect, useState } from "react";

/** A list of strings kept in sessionStorage under `key` (null until set). */
export function useSessionList(key: string): [string[] | null, (v: string[] | null) => void] {
  const [value, setValue] = useState<string[] | null>(null);
  useEffect(() => {
    try {
      const raw = window.sessionStorage.getItem(key);
      const parsed: unknown = raw ? JSON.parse(raw) : null;
      setValue(Array.isArray(parsed) ? parsed.filter((x): x is string => typeof x === "string") : null);
    } catch {
      setValue(null);
    }
  }, [key]);
  const set = useCallback(
    (v: string[] | null) => {
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
