/**
 * Host labels a task requires (`requires`): the kernel owns the rule and its typed refusal; the
 * board applies the same rule while a person types, so a bad label is named at the field before
 * anything is sent. The server's answer still wins (it is shown at the same place).
 */

/** One label: lower-case letters, digits, `.`, `_` and `-`, starting with a letter or digit, at most 64. */
export const LABEL_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/;
/** How many labels one task may require. */
export const MAX_LABELS = 16;

export type LabelsChange = { labels: string[]; error: string | null };

/**
 * Adds what was typed (one label, or several separated by commas or spaces) to `current`:
 * lower-cased and trimmed like the kernel does, duplicates dropped. A label that breaks the rule,
 * or one past the limit, is not added and the error names it; the valid ones before it still are.
 */
export function addLabels(current: readonly string[], typed: string): LabelsChange {
  const labels = [...current];
  for (const raw of typed.split(/[\s,]+/)) {
    const label = raw.trim().toLowerCase();
    if (label === "" || labels.includes(label)) continue;
    if (!LABEL_RE.test(label)) {
      return {
        labels,
        error: `'${label.length > 40 ? `${label.slice(0, 40)}…` : label}' is not a label: use lower-case letters, digits, '.', '_' and '-' (starting with a letter or digit, at most 64).`,
      };
    }
    if (labels.length >= MAX_LABELS) return { labels, error: `A task can require at most ${MAX_LABELS} labels.` };
    labels.push(label);
  }
  return { labels, error: null };
}

/** The two lists hold the same labels (order aside): nothing to save. */
export function sameLabels(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(a);
  return b.every((x) => set.has(x));
}

/** A task's required labels from a card or task that may come from a server older than issue 15. */
export function requiresOf(task: { requires?: readonly string[] | null }): string[] {
  return Array.isArray(task.requires) ? task.requires.filter((x): x is string => typeof x === "string") : [];
}

/** Whether a refusal from the server is about the required labels (shown at that field, not as a toast). */
export function isLabelsRefusal(message: string): boolean {
  return /\brequires?\b|\blabels?\b/i.test(message);
}
