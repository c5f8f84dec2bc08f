// Money for people (issue 21). The kernel keeps money in whole micro-dollars; this is how it is shown.

/** Micro-dollars as dollars for people: `$1.234567`, trailing zeros after the cents dropped. */
export function formatMicroUsd(micro: number): string {
  const sign = micro < 0 ? "-" : "";
  const abs = Math.abs(micro);
  const dollars = Math.floor(abs / 1_000_000);
  const frac = String(abs % 1_000_000)
    .padStart(6, "0")
    .replace(/0+$/, "")
    .padEnd(2, "0");
  return `${sign}$${dollars}.${frac}`;
}
