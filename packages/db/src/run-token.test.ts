import fs from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mintRunToken, runTokenSecretPath, runTokenVerifier } from "./run-token.ts";
import { makeTempDir } from "./testing.ts";

let home: ReturnType<typeof makeTempDir>;
let other: ReturnType<typeof makeTempDir>;
beforeEach(() => {
  home = makeTempDir("kanban-runtoken-");
  other = makeTempDir("kanban-runtoken-other-");
});
afterEach(() => {
  home.cleanup();
  other.cleanup();
});

const claim = { board: "default", task: "t_0123abcd", run: 7 };

describe("run tokens", () => {
  it("creates a private secret on first mint and verifies what it signed", () => {
    expect(runTokenVerifier(home.dir).verify("kbr1.x.y")).toBeNull();
    const token = mintRunToken(home.dir, claim);
    expect(fs.statSync(runTokenSecretPath(home.dir)).mode & 0o777).toBe(0o600);
    expect(token.startsWith("kbr1.")).toBe(true);
    expect(/\s/.test(token)).toBe(false);
    expect(runTokenVerifier(home.dir).verify(token)).toEqual(claim);
    // Same secret, same token: minting again neither rotates the secret nor invalidates old tokens.
    expect(mintRunToken(home.dir, claim)).toBe(token);
  });

  it("refuses a token from another home, a changed payload and garbage", () => {
    const token = mintRunToken(home.dir, claim);
    mintRunToken(other.dir, claim);
    expect(runTokenVerifier(other.dir).verify(token)).toBeNull();
    const [prefix, , sig] = token.split(".");
    const forged = `${prefix}.${Buffer.from(JSON.stringify(["default", "t_ffffffff", 7])).toString("base64url")}.${sig}`;
    const v = runTokenVerifier(home.dir);
    expect(v.verify(forged)).toBeNull();
    for (const bad of [
      "",
      "kbr1.",
      "kbr1..",
      `${token}x`,
      token.replace("kbr1.", "kbr2."),
      "admin-token-0123456789abcdef",
    ])
      expect(v.verify(bad)).toBeNull();
  });

  it("picks up a secret created after the verifier (a server started before the dispatcher)", () => {
    const v = runTokenVerifier(home.dir);
    const early = v.verify(`kbr1.${Buffer.from("[]").toString("base64url")}.x`);
    expect(early).toBeNull();
    const token = mintRunToken(home.dir, claim);
    expect(v.verify(token)).toEqual(claim);
  });
});
