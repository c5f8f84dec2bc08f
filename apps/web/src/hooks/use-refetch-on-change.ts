import { useEffect, useRef } from "react";

type Refetchable = { isFetching: boolean; refetch: () => Promise<unknown> };

/**
 * Asks a query again whenever `version` changes (a live event reloaded the task), so its answer is
 * one made after the change. The first version is the one the query was just made for.
 *
 * A plain `refetch()` is not enough: while a query's first fetch is in flight (no data yet),
 * TanStack Query hands back that same fetch instead of starting another, and its answer was made
 * before the change (a drawer opened just before a label was added kept the old labels until its
 * next poll). So a change seen mid-fetch is owed, and asked for when that fetch ends.
 */
export function useRefetchOnChange(version: unknown, query: Refetchable): void {
  const { isFetching, refetch } = query;
  const seen = useRef(version);
  const owed = useRef(false);
  useEffect(() => {
    if (seen.current !== version) {
      seen.current = version;
      owed.current = true;
    }
    if (!owed.current || isFetching) return;
    owed.current = false;
    void refetch();
  }, [version, isFetching, refetch]);
}
