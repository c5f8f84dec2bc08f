/** `45s`, `12m`, `3h`, `2d`: a span as people read it on a card. */
export function span(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) {
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    return m === 0 ? `${h}h` : `${h}h ${m}m`;
  }
  return `${Math.floor(s / 86_400)}d`;
}

/** `2026-12-04 07:55 UTC`: an absolute time in one fixed zone, so every surface prints the same. */
export function clockTime(unixSeconds: number): string {
  return `${new Date(unixSeconds * 1000).toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** The first non-empty line of a free text, at most `max` characters. */
export function firstLine(text: string | null | undefined, max = 160): string {
  const line =
    (text ?? "")
      .split("\n")
      .find((l) => l.trim() !== "")
      ?.trim() ?? "";
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
