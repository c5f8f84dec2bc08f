/** Levenshtein distance (insert, delete, substitute each cost 1). Only used on short config keys. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitute = (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      row.push(Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, substitute));
    }
    prev = row;
  }
  return prev[b.length] as number;
}

/**
 * The known name a misspelt one most likely meant, or null when none is close: within a third of
 * the name's length (at least 2 edits), or the same name in another case or with '-' for '_'.
 */
export function closestName(name: string, known: readonly string[]): string | null {
  const norm = (s: string) => s.toLowerCase().replaceAll("-", "_");
  let best: string | null = null;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of known) {
    const d = norm(candidate) === norm(name) ? 0 : editDistance(name, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best !== null && bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : null;
}
