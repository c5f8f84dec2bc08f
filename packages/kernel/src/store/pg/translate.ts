import { NOT_NULL_COLUMNS } from "./not-null-columns.ts";

/**
 * The store's SQL is written once, in SQLite's dialect, and PostgreSQL runs a translation of it.
 * This module is that translation: a handful of rewrites, each for a construct whose meaning
 * differs between the engines, applied once per statement text (the result is cached) and checked
 * by running the kernel's own suites on PostgreSQL. It is not a general SQLite-to-PostgreSQL
 * converter; a construct the store does not use is not handled.
 *
 * - Parameters: `?` (positional) and `:name` (named) become `$1..$n`; a name used twice is one
 *   parameter.
 * - `x [NOT] IN (SELECT value FROM json_each(?))` (a JSON array passed as text) becomes
 *   `x = ANY($n)` / `x <> ALL($n)` with the parameter sent as an array, so PostgreSQL types its
 *   elements after `x` (text ids, bigint run ids) instead of comparing them as text.
 * - `a IS b` / `a IS NOT b` where b is not NULL/TRUE/FALSE (SQLite's null-safe equality) becomes
 *   `IS [NOT] DISTINCT FROM`.
 * - `INDEXED BY name` (a planner hint SQLite needs and PostgreSQL has no syntax for) is dropped.
 * - `json_valid(x)`, `json_extract(x, '$.k')`, `json_type(x, '$.k')` read the payload through
 *   `kanban_try_jsonb` (migration 0004), which is NULL for malformed JSON, as SQLite's never fail.
 * - `ORDER BY` terms that may be NULL get SQLite's NULL order spelled out (NULL is the smallest
 *   value in SQLite; PostgreSQL sorts it largest), so pages, lanes and cursors order alike.
 */
export interface Translated {
  text: string;
  /** For each `$k` (k = index + 1): where its value comes from. */
  params: Param[];
}

type Param = { source: number | string; array: boolean; nullFlag?: boolean };

const cache = new Map<string, Translated>();

export function translate(sql: string): Translated {
  let t = cache.get(sql);
  if (!t) {
    t = translateUncached(sql);
    cache.set(sql, t);
  }
  return t;
}

/** The values for a translated statement from the caller's arguments (positional, or one object of named values). */
export function bindValues(t: Translated, args: readonly unknown[]): unknown[] {
  const named = args.length === 1 && isNamedArgs(args[0]) ? (args[0] as Record<string, unknown>) : null;
  return t.params.map((p) => {
    const v = typeof p.source === "number" ? args[p.source] : named?.[p.source];
    if (v === undefined)
      throw new Error(`missing SQL parameter ${typeof p.source === "number" ? p.source + 1 : `:${p.source}`}`);
    if (p.nullFlag) return v === null ? null : 1;
    return p.array ? jsonArray(v) : v;
  });
}

function isNamedArgs(v: unknown): boolean {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v);
}

function jsonArray(v: unknown): unknown[] | null {
  // A NULL list stays NULL (`:known IS NOT NULL AND x NOT IN (SELECT value FROM json_each(:known))`).
  if (v === null) return null;
  if (Array.isArray(v)) return v;
  const parsed: unknown = JSON.parse(String(v));
  if (!Array.isArray(parsed)) throw new Error("json_each parameter is not a JSON array");
  return parsed;
}

function translateUncached(sql: string): Translated {
  const params: Param[] = [];
  const byName = new Map<string, number>();
  let positional = 0;
  // Pass 1: parameters, outside string literals and quoted identifiers.
  let out = "";
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i] as string;
    if (c === "'" || c === '"') {
      const end = closingQuote(sql, i, c);
      out += sql.slice(i, end + 1);
      i = end;
    } else if (c === "?") {
      params.push({ source: positional++, array: false });
      out += `$${params.length}`;
    } else if (c === ":" && sql[i + 1] !== ":" && sql[i - 1] !== ":" && /[A-Za-z_]/.test(sql[i + 1] ?? "")) {
      const name = /^[A-Za-z_]\w*/.exec(sql.slice(i + 1))?.[0] as string;
      let k = byName.get(name);
      if (k === undefined) {
        params.push({ source: name, array: false });
        k = params.length;
        byName.set(name, k);
      }
      out += `$${k}`;
      i += name.length;
    } else {
      out += c;
    }
  }

  out = out.replace(
    /([\w.]+)\s+(NOT\s+)?IN\s*\(\s*SELECT\s+value\s+FROM\s+json_each\(\s*\$(\d+)\s*\)\s*\)/gi,
    (_m, lhs: string, not: string | undefined, k: string) => {
      (params[Number(k) - 1] as Param).array = true;
      return not ? `${lhs} <> ALL($${k})` : `${lhs} = ANY($${k})`;
    },
  );
  // `$n IS [NOT] NULL` alone cannot type its parameter (PostgreSQL refuses an untyped one even when
  // another use of it types it, e.g. `= ANY($n)`), so the test reads a parameter of its own: 1, or
  // NULL when the caller's value is null.
  const uses = (k: string) => out.match(new RegExp(`\\$${k}(?!\\d)`, "g"))?.length ?? 0;
  out = out.replace(/\$(\d+)(\s+IS\s+(?:NOT\s+)?NULL\b)/gi, (_m, k: string, test: string) => {
    const own = params[Number(k) - 1] as Param;
    // A parameter used only here becomes the flag itself (an unreferenced `$k` could not be typed
    // either); one used elsewhere too gets a second parameter, so its other uses keep their type.
    if (uses(k) === 1) {
      own.nullFlag = true;
      return `$${k}::int${test}`;
    }
    params.push({ ...own, array: false, nullFlag: true });
    return `$${params.length}::int${test}`;
  });
  out = out.replace(/\s+INDEXED\s+BY\s+\w+/gi, "");
  out = out.replace(/\bjson_valid\(\s*([\w.]+)\s*\)/gi, "(kanban_try_jsonb($1) IS NOT NULL)");
  out = out.replace(/\bjson_extract\(\s*([\w.]+)\s*,\s*'\$\.(\w+)'\s*\)/gi, "(kanban_try_jsonb($1) ->> '$2')");
  out = out.replace(/\bjson_type\(\s*([\w.]+)\s*,\s*'\$\.(\w+)'\s*\)/gi, "jsonb_typeof(kanban_try_jsonb($1) -> '$2')");
  out = out.replace(/\bIS\s+(NOT\s+)?(?!NULL\b|TRUE\b|FALSE\b|DISTINCT\b|NOT\b)(?=[$'\w])/gi, (_m, not) =>
    not ? "IS DISTINCT FROM " : "IS NOT DISTINCT FROM ",
  );
  out = spellOutNullOrder(out);
  return { text: out, params };
}

/** Where the literal or quoted name opened by `q` at `start` ends (a doubled quote is part of it). */
export function closingQuote(sql: string, start: number, q: string): number {
  for (let i = start + 1; i < sql.length; i++) {
    if (sql[i] === q) {
      if (sql[i + 1] === q) i++;
      else return i;
    }
  }
  return sql.length - 1;
}

/** Adds SQLite's NULL order to each ORDER BY term that may be NULL (see the module comment). */
function spellOutNullOrder(sql: string): string {
  const re = /\bORDER\s+BY\s+/gi;
  let out = "";
  let last = 0;
  for (let m = re.exec(sql); m !== null; m = re.exec(sql)) {
    const start = m.index + m[0].length;
    const end = termsEnd(sql, start);
    out += sql.slice(last, start);
    out += splitTopLevel(sql.slice(start, end))
      .map((term) => withNullOrder(term))
      .join(",");
    last = end;
    re.lastIndex = end;
  }
  return out + sql.slice(last);
}

/** Where an ORDER BY list ends: LIMIT/OFFSET, a closing parenthesis of an enclosing group, `;`, or the end. */
function termsEnd(sql: string, from: number): number {
  let depth = 0;
  for (let i = from; i < sql.length; i++) {
    const c = sql[i];
    if (c === "'") {
      i = closingQuote(sql, i, "'");
      continue;
    }
    if (c === "(") depth++;
    else if (c === ")") {
      if (depth === 0) return i;
      depth--;
    } else if (c === ";" && depth === 0) return i;
    else if (depth === 0 && /[A-Za-z]/.test(c ?? "") && !/\w/.test(sql[i - 1] ?? "")) {
      const word = /^[A-Za-z]+/.exec(sql.slice(i))?.[0].toUpperCase();
      if (word === "LIMIT" || word === "OFFSET" || word === "UNION" || word === "FOR") return i;
    }
  }
  return sql.length;
}

function splitTopLevel(list: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = "";
  for (let i = 0; i < list.length; i++) {
    const c = list[i] as string;
    if (c === "'") {
      const end = closingQuote(list, i, "'");
      cur += list.slice(i, end + 1);
      i = end;
      continue;
    }
    if (c === "(") depth++;
    if (c === ")") depth--;
    if (c === "," && depth === 0) {
      parts.push(cur);
      cur = "";
    } else cur += c;
  }
  parts.push(cur);
  return parts;
}

function withNullOrder(term: string): string {
  if (/\bNULLS\s+(FIRST|LAST)\b/i.test(term)) return term;
  const m = /^(\s*)([\s\S]*?)(?:\s+(ASC|DESC))?(\s*)$/i.exec(term);
  if (!m) return term;
  const [, lead, expr, dir, trail] = m as unknown as [string, string, string, string | undefined, string];
  const column = /^(?:\w+\.)?(\w+)$/.exec(expr.trim())?.[1];
  if (column !== undefined && NOT_NULL_COLUMNS.has(column)) return term;
  const desc = dir?.toUpperCase() === "DESC";
  return `${lead}${expr}${dir ? ` ${dir}` : ""} ${desc ? "NULLS LAST" : "NULLS FIRST"}${trail}`;
}
