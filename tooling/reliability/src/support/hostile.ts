/**
 * Payloads that try to run code wherever they are rendered. Each one, if it ever executed, sets
 * `window.__pwned` or opens a dialog; the browser test asserts that neither ever happens.
 */
export const SCRIPT_PAYLOADS = {
  img: `<img src=x onerror="window.__pwned='img';alert('img')">`,
  script: `<script>window.__pwned='script';alert('script')</script>`,
  svg: `<svg/onload="window.__pwned='svg'">`,
  iframe: `<iframe src="javascript:parent.__pwned='iframe'"></iframe>`,
  link: `[click me](javascript:window.__pwned='link')`,
  attribute: `"><img src=x onerror=window.__pwned='attr'>`,
  style: `<style>body{display:none}</style><div style="background:url(javascript:window.__pwned='style')">x</div>`,
} as const;

/** Text that must survive storage byte for byte: direction overrides, ZWJ emoji, combining marks, NFD. */
export const UNICODE_TEXTS = {
  rtl: "\u202Eevil.exe\u202C txt \u05E9\u05DC\u05D5\u05DD \u0645\u0631\u062D\u0628\u0627",
  emoji: "👩‍👩‍👧‍👦 🏳️‍🌈 🇺🇳 ✊🏿",
  combining: "Z\u0351\u0354\u0355a\u0300\u0301\u0302l\u0303g\u0304o\u0305",
  decomposed: "e\u0301 vs \u00e9 (NFD vs NFC, must not be normalised)",
  astral: "𝕳𝖊𝖑𝖑𝖔 𐍈 𠜎",
  zeroWidth: "a\u200Bb\u200Cc\u200Dd\uFEFFe",
} as const;

/** Control characters: stored exactly or refused, never mangled. */
export const CONTROL_TEXTS = {
  bell: "ring\u0007ring",
  ansi: "\u001b[31mred\u001b[0m \u001b]0;title\u0007",
  newlines: "line1\r\nline2\rline3\n",
  separators: "para\u2028line\u2029end",
  nul: "before\u0000after",
  del: "x\u007Fy\u0080z\u009Fw",
} as const;
