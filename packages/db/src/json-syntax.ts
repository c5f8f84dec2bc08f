/**
 * Where a JSON text first goes wrong, as "line L, column C: expected …". V8's own JSON.parse message
 * quotes the text around the error, and in config.json that text may be a tenant token: this
 * description never contains any of the input.
 */
export function describeJsonError(text: string): string {
  const { offset, expected } = locateJsonError(text);
  let line = 1;
  let column = 1;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === "\n") {
      line++;
      column = 1;
    } else column++;
  }
  return `line ${line}, column ${column}: ${expected}`;
}

/** A minimal RFC 8259 scanner: returns the offset of the first error (text.length when it only ends early). */
export function locateJsonError(text: string): { offset: number; expected: string } {
  let i = 0;
  class Stop {
    constructor(
      readonly offset: number,
      readonly expected: string,
    ) {}
  }
  const fail = (expected: string): never => {
    throw new Stop(i, i >= text.length ? `${expected}, but the file ends` : expected);
  };
  const ws = () => {
    while (i < text.length && " \t\n\r".includes(text[i] as string)) i++;
  };
  const literal = (word: string) => {
    for (const ch of word) {
      if (text[i] !== ch) fail(`expected '${word}'`);
      i++;
    }
  };
  const string = () => {
    i++; // opening quote
    while (i < text.length) {
      const ch = text.charCodeAt(i);
      if (ch === 0x22) {
        i++;
        return;
      }
      if (ch < 0x20) fail("control character inside a string (write it as an escape)");
      if (ch === 0x5c) {
        i++;
        const esc = text[i];
        if (esc === "u") {
          for (let k = 1; k <= 4; k++)
            if (!/[0-9a-fA-F]/.test(text[i + k] ?? "")) fail("expected 4 hex digits after \\u");
          i += 5;
        } else if (esc !== undefined && '"\\/bfnrt'.includes(esc)) i++;
        else fail("invalid escape in a string");
      } else i++;
    }
    fail("expected the closing '\"' of a string");
  };
  const digits = () => {
    const start = i;
    while (i < text.length && /[0-9]/.test(text[i] as string)) i++;
    if (i === start) fail("expected a digit");
  };
  const number = () => {
    if (text[i] === "-") i++;
    if (text[i] === "0") i++;
    else digits();
    if (text[i] === ".") {
      i++;
      digits();
    }
    if (text[i] === "e" || text[i] === "E") {
      i++;
      if (text[i] === "+" || text[i] === "-") i++;
      digits();
    }
  };
  const value = (depth: number): void => {
    if (depth > 10_000) fail("nested too deeply");
    ws();
    const ch = text[i];
    if (ch === "{") {
      i++;
      ws();
      if (text[i] === "}") {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail("expected a double-quoted key");
        string();
        ws();
        if (text[i] !== ":") fail("expected ':' after a key");
        i++;
        value(depth + 1);
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "}") {
          i++;
          return;
        }
        fail("expected ',' or '}'");
      }
    }
    if (ch === "[") {
      i++;
      ws();
      if (text[i] === "]") {
        i++;
        return;
      }
      for (;;) {
        value(depth + 1);
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "]") {
          i++;
          return;
        }
        fail("expected ',' or ']'");
      }
    }
    if (ch === '"') string();
    else if (ch === "t") literal("true");
    else if (ch === "f") literal("false");
    else if (ch === "n") literal("null");
    else if (ch === "-" || (ch !== undefined && /[0-9]/.test(ch))) number();
    else fail("expected a value");
  };
  try {
    if (text.charCodeAt(0) === 0xfeff) i = 1;
    value(0);
    ws();
    if (i < text.length) fail("unexpected text after the end of the JSON value");
    return { offset: text.length, expected: "invalid JSON" };
  } catch (err) {
    if (err instanceof Stop) return { offset: err.offset, expected: err.expected };
    throw err;
  }
}
