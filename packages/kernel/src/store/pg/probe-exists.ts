import { closingQuote } from "./translate.ts";

/**
 * Keeps each `EXISTS (SELECT …)` of a PostgreSQL statement a probe of the outer row's own index
 * entries: `LIMIT 1 OFFSET 0` is added inside each one. An OFFSET stops PostgreSQL from turning the
 * test into one hashed scan of the whole inner table. The planner picks that hashed form when the
 * table is small. A pool connection plans a prepared statement once for all (the generic plan, from
 * its sixth run on), so a board whose history grew afterwards scanned every row of it on each run: a
 * claim's "has this task ever had a run" test read all 2,520 runs of a bench board, 34 buffers and
 * a quarter of a millisecond a claim, where the probe reads 3 buffers. Autovacuum's next ANALYZE of
 * the table replans it, but that waits for a tenth more rows and comes at most once a minute: a fleet
 * starting on a fresh board works in that window.
 */
export function probeExists(sql: string): string {
  let out = "";
  let from = 0;
  const re = /\bEXISTS\s*\(/gi;
  for (let m = re.exec(sql); m !== null; m = re.exec(sql)) {
    const open = m.index + m[0].length - 1;
    const close = matchingParen(sql, open);
    out += sql.slice(from, close);
    // Nested EXISTS inside this one are left as they are: the outer one already runs per row.
    if (!/\bLIMIT\b/i.test(sql.slice(open, close))) out += " LIMIT 1 OFFSET 0";
    from = close;
    re.lastIndex = close;
  }
  return out + sql.slice(from);
}

function matchingParen(sql: string, open: number): number {
  let depth = 0;
  for (let i = open; i < sql.length; i++) {
    const c = sql[i];
    if (c === "'") i = closingQuote(sql, i, "'");
    else if (c === "(") depth++;
    else if (c === ")" && --depth === 0) return i;
  }
  throw new Error(`probeExists: no closing parenthesis after ${sql.slice(open, open + 40)}`);
}
