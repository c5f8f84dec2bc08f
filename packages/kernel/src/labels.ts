import { invalid } from "./errors.ts";

/** What a label may be: a word of lower-case letters, digits, `.`, `_` and `-` (host labels and task requirements alike). */
export const LABEL_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/;
/** At most this many labels on one task: a routing rule, not a tag cloud. */
export const MAX_REQUIRES = 16;

/**
 * The labels a task requires (`--requires macos,xcode`), as stored: trimmed, lower-cased, deduped
 * and sorted (so the same set always reads the same). Anything else is a typed INVALID naming the
 * offending value: a mistyped label would otherwise make a card that no host ever claims.
 */
export function normaliseRequires(input: readonly unknown[] | null | undefined): string[] {
  if (input === null || input === undefined) return [];
  if (!Array.isArray(input)) throw invalid("requires must be a list of labels");
  const out = new Set<string>();
  for (const raw of input) {
    if (typeof raw !== "string") throw invalid("requires must be a list of labels (strings)");
    const label = raw.trim().toLowerCase();
    if (label === "") continue;
    if (!LABEL_RE.test(label)) {
      throw invalid(
        `invalid label '${raw.slice(0, 80)}': labels are 1-64 of a-z, 0-9, '.', '_' and '-', starting with a letter or digit`,
        { label: raw.slice(0, 80) },
      );
    }
    out.add(label);
  }
  if (out.size > MAX_REQUIRES) throw invalid(`a task may require at most ${MAX_REQUIRES} labels (got ${out.size})`);
  return [...out].sort();
}

/** The labels of `requires` that `offered` lacks (empty: a claimer with `offered` may take the task). */
export function missingLabels(requires: readonly string[], offered: readonly string[]): string[] {
  if (requires.length === 0) return [];
  const have = new Set(offered);
  return requires.filter((l) => !have.has(l));
}
