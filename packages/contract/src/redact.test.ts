import { describe, expect, it } from "vitest";
import { cutsOffSecrets, REDACTED, redactSecrets, redactSecretsDeep, secretSpans, secretValuesOf } from "./redact.ts";

describe("redactSecrets", () => {
  it("cuts credentials by shape and keeps what helps a reader", () => {
    const cases: [string, string][] = [
      ["KANBAN_TOKEN=kbr1.eyJib2FyZCI6ImRlZmF1bHQifQ.c2lnbmF0dXJlLWhlcmU", `KANBAN_TOKEN=${REDACTED}`],
      ["token kbr1.abc_DEF-123.xyz-789_q in the log", `token ${REDACTED} in the log`],
      ["OPENAI_API_KEY=sk-proj-abcdefghijklmnop1234", `OPENAI_API_KEY=${REDACTED}`],
      ["using sk-ant-api03-AAAABBBBCCCCDDDDEEEE now", `using ${REDACTED} now`],
      ["export GH=ghp_0123456789abcdefghijABCDEFGHIJ0123456789", `export GH=${REDACTED}`],
      ["slack xoxb-1234567890-abcdefghij", `slack ${REDACTED}`],
      ["aws AKIAIOSFODNN7EXAMPLE key", `aws ${REDACTED} key`],
      ["Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc", `Authorization: Bearer ${REDACTED}`],
      ["curl -H 'Authorization: Basic dXNlcjpwYXNzd29yZA=='", `curl -H 'Authorization: Basic ${REDACTED}'`],
      ["sent Bearer 0123456789abcdefABCDEF", `sent Bearer ${REDACTED}`],
      [
        "db at postgres://kanban:s3cr3t-pw@db.internal:5432/kanban",
        `db at postgres://kanban:${REDACTED}@db.internal:5432/kanban`,
      ],
      ['{"db_password": "hunter2hunter2"}', `{"db_password": "${REDACTED}"}`],
      ["DATABASE_PASSWORD: correcthorsebattery", `DATABASE_PASSWORD: ${REDACTED}`],
      [
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nabc\n-----END RSA PRIVATE KEY-----\nafter",
        `-----BEGIN PRIVATE KEY----- ${REDACTED} -----END PRIVATE KEY-----\nafter`,
      ],
      // The tail of a key whose BEGIN line was cut off (its first line cut too), then of a second one.
      [
        "AAKCAQEA7bq+/w==\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----\nafter it\nZm9v\n-----END PRIVATE KEY-----",
        `${REDACTED} -----END PRIVATE KEY-----\nafter it\n${REDACTED} -----END PRIVATE KEY-----`,
      ],
    ];
    for (const [input, want] of cases) expect(redactSecrets(input), input).toBe(want);
  });

  it("leaves ordinary text alone: prose about tokens, token counts, authors, URLs without a password", () => {
    const plain = [
      "the token expired yesterday; Basic authentication is off",
      "input_tokens=120000 output_tokens: 4096 max_tokens=8000",
      'author: alice, "author_id": "u_12345678"',
      "see https://github.com:443/org/repo@main and git@github.com:org/repo.git",
      "idempotency_key=build-2026-12-05 scope_key=card",
      "password: see the vault",
      "SECRET_COUNT=12345678",
    ];
    for (const text of plain) expect(redactSecrets(text), text).toBe(text);
  });

  it("cuts known values wherever they appear, longest first, and ignores short ones", () => {
    expect(redactSecrets("a=abcdefgh-1 b=abcdefgh c=xyz", ["abcdefgh", "abcdefgh-1", "xyz"])).toBe(
      `a=${REDACTED} b=${REDACTED} c=xyz`,
    );
    expect(redactSecrets("regex chars a.b*c(d) here", ["a.b*c(d)"])).toBe(`regex chars ${REDACTED} here`);
  });

  it("is idempotent", () => {
    const once = redactSecrets("KANBAN_TOKEN=kbr1.aaa.bbb OPENAI_API_KEY=sk-abcdefghijklmnopqrstu");
    expect(redactSecrets(once)).toBe(once);
  });
});

describe("redactSecretsDeep", () => {
  it("redacts every string of a JSON value and the string under a secret-named key, keeping keys and other types", () => {
    const metadata = {
      files: 3,
      ok: true,
      notes: ["ran with GITHUB_TOKEN=ghp_0123456789abcdefghijABCDEFGHIJ0123456789"],
      env: { API_KEY: "short-but-named", HOME: "/home/w" },
      nested: { url: "https://u:pass-word-1@example.com/x" },
      tokens_in: 1200,
    };
    expect(redactSecretsDeep(metadata)).toEqual({
      files: 3,
      ok: true,
      notes: [`ran with GITHUB_TOKEN=${REDACTED}`],
      env: { API_KEY: REDACTED, HOME: "/home/w" },
      nested: { url: `https://u:${REDACTED}@example.com/x` },
      tokens_in: 1200,
    });
  });
});

describe("secretValuesOf", () => {
  it("takes the values of secret-named variables long enough to be secrets", () => {
    expect(
      secretValuesOf({
        ANTHROPIC_API_KEY: "sk-ant-zzzzzzzzzzzzzzzz",
        DB_PASSWORD: "pw",
        HOME: "/root",
        GIT_TOKEN: "abcdefghijkl",
        MAX_TOKENS: "800000000",
      }),
    ).toEqual(["sk-ant-zzzzzzzzzzzzzzzz", "abcdefghijkl"]);
  });
});

describe("secretSpans and cutsOffSecrets", () => {
  const key = "sk-ant-api03-0123456789abcdefghij";
  const text = `a ${key} b API_TOKEN=abcdefgh12 c plain-secret-value d`;
  const at = (s: string) => text.indexOf(s);

  it("finds what redactSecrets cuts, whole matches, merged where they touch", () => {
    expect(secretSpans(text, ["plain-secret-value"])).toEqual([
      [at(key), at(key) + key.length],
      [at("API_TOKEN"), at(" c ")],
      [at("plain"), at(" d")],
    ]);
    // A known value inside a shaped match: one span.
    expect(secretSpans(`x ${key} y`, ["0123456789abcdef"])).toEqual([[2, 2 + key.length]]);
    expect(secretSpans("nothing to see here")).toEqual([]);
  });

  it("moves a cut inside a secret to its edge: a start back, an end on; cuts outside stay", () => {
    const k = at(key);
    expect(cutsOffSecrets(text, 0, { start: k + 5, end: k + 9 })).toEqual({ start: k, end: k + key.length });
    expect(cutsOffSecrets(text, 0, { start: k, end: k + key.length })).toEqual({ start: k, end: k + key.length });
    expect(cutsOffSecrets(text, 0, { start: 1, end: at(" b") + 1 })).toEqual({ start: 1, end: at(" b") + 1 });
    // The window's offset in the file is added; known values are matched by their UTF-8 bytes.
    const known = "clé-secrète-à-moi";
    const bytes = Array.from(new TextEncoder().encode(`xx ${known} yy`), (b) => String.fromCharCode(b)).join("");
    expect(cutsOffSecrets(bytes, 1000, { start: 1006, end: 1010 }, [known])).toEqual({
      start: 1003,
      end: 1003 + new TextEncoder().encode(known).length,
    });
  });
});
