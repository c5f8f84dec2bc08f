import { createHash, type Hash } from "node:crypto";

/**
 * A stored value as both engines hand it to the copy: NULL, an integer (always a bigint, so 64-bit
 * ids and times survive), a real, text, or a blob. PostgreSQL boards only ever hold the first three
 * kinds; an SQLite board may hold any (SQLite types values, not columns).
 */
export type CopyValue = null | bigint | number | string | Uint8Array;

export type CopyRow = CopyValue[];

const TAG_NULL = 0;
const TAG_INTEGER = 1;
const TAG_REAL = 2;
const TAG_TEXT = 3;
const TAG_BLOB = 4;

function field(tag: number, bytes: Uint8Array): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt8(tag, 0);
  head.writeUInt32BE(bytes.length, 1);
  return Buffer.concat([head, bytes]);
}

/**
 * The canonical bytes of one row: for each column in schema order a type tag, a 4-byte length and
 * the value (an integer in decimal, a real as JavaScript's shortest round-trip text, text as UTF-8,
 * a blob as is). Length prefixes make the encoding unambiguous, and the tag keeps the integer 1
 * apart from the text '1'. Nothing depends on the engine: the same rows hash the same on both.
 */
export function encodeRow(row: CopyRow): Buffer {
  const parts: Buffer[] = [];
  for (const value of row) {
    if (value === null) parts.push(field(TAG_NULL, new Uint8Array()));
    else if (typeof value === "bigint") parts.push(field(TAG_INTEGER, Buffer.from(value.toString(), "latin1")));
    else if (typeof value === "number") parts.push(field(TAG_REAL, Buffer.from(String(value), "latin1")));
    else if (typeof value === "string") parts.push(field(TAG_TEXT, Buffer.from(value, "utf8")));
    else parts.push(field(TAG_BLOB, value));
  }
  return Buffer.concat(parts);
}

/** How many rows a table holds and the sha256 over their canonical bytes in primary-key order. */
export interface TableDigest {
  rows: number;
  sha256: string;
}

/** Accumulates a {@link TableDigest}; feed rows in primary-key order. */
export class DigestBuilder {
  private readonly hash: Hash = createHash("sha256");
  private count = 0;

  add(row: CopyRow): void {
    const bytes = encodeRow(row);
    // Each row is length-prefixed too, so row boundaries cannot shift between tables of equal bytes.
    const head = Buffer.alloc(4);
    head.writeUInt32BE(bytes.length, 0);
    this.hash.update(head);
    this.hash.update(bytes);
    this.count++;
  }

  finish(): TableDigest {
    return { rows: this.count, sha256: this.hash.digest("hex") };
  }
}

/** A value for messages: short, one line, never more than a few dozen characters of text. */
export function describeValue(value: CopyValue): string {
  if (value === null) return "NULL";
  if (typeof value === "bigint") return `${value} (integer)`;
  if (typeof value === "number") return `${value} (real)`;
  if (typeof value === "string") {
    const shown = JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
    return `${shown} (text)`;
  }
  return `${value.length} bytes (blob)`;
}
