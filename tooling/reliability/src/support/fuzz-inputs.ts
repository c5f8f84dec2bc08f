import { TASK_STATUSES } from "@kanban/contract";
import fc from "fast-check";

/**
 * Input generators for fuzzing the API: arbitrary JSON, and near-valid inputs built from each
 * procedure's own input schema (as JSON Schema) with one part or another made hostile.
 */

/** The slice of JSON Schema that zod emits for our inputs. */
export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  additionalProperties?: JsonSchema | boolean;
}

/** What the fixtures of the board under test offer: real ids, real run ids, real boards. */
export interface Pools {
  taskIds: string[];
  runIds: number[];
  boards: string[];
}

/** Board slugs and paths an attacker would try: traversal, absolute paths, encodings, reserved names. */
export const HOSTILE_SLUGS = [
  "..",
  "../etc",
  "../../tmp/kanban-escape",
  "a/../b",
  "default/../../x",
  "/etc",
  "./default",
  ".hidden",
  "-dash",
  "_under",
  "UPPER",
  "x".repeat(65),
  "%2e%2e%2f",
  "..\\..\\windows",
  "default\u0000",
  "_archived",
  "",
  " ",
];

/** Strings that have broken parsers, paths and renderers before. */
export const HOSTILE_STRINGS = [
  "",
  " ",
  "../",
  "../../etc/passwd",
  "dir:../../etc",
  "dir:relative/path",
  "worktree:../x",
  "/etc/passwd",
  "~/.ssh/id_rsa",
  "<script>window.__pwned=1</script>",
  "<img src=x onerror=window.__pwned=1>",
  "\u0000",
  "\u0000\u0007\u001b[31m\r\n",
  "\u202eevil\u202c",
  "\ud800",
  "👩‍👩‍👧‍👦",
  "e\u0301\u0301\u0301",
  "null",
  "undefined",
  "NaN",
  "-1",
  "1e309",
  "__proto__",
  "constructor",
  "' OR 1=1 --",
  "%s%s%n",
  "x".repeat(70_000),
];

export const HOSTILE_NUMBERS = [
  -1,
  0,
  -0.5,
  1.5,
  -1e308,
  1e308,
  2 ** 53,
  2 ** 63,
  -(2 ** 31),
  4294967296,
  Number.MIN_VALUE,
];

/** Any value at all, leaning on the nasty ones. */
export function hostileValue(): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
    { weight: 3, arbitrary: fc.constantFrom<unknown>(...HOSTILE_STRINGS, ...HOSTILE_SLUGS) },
    {
      weight: 2,
      arbitrary: fc.constantFrom<unknown>(...HOSTILE_NUMBERS, true, false, null, [], {}, [null], { "": "" }),
    },
    { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 200 }) },
    {
      weight: 1,
      arbitrary: fc.constantFrom<unknown>(JSON.parse('{"__proto__": {"polluted": true}}'), {
        constructor: { prototype: { polluted: true } },
      }),
    },
  );
}

/** Every real status, plus two that must be refused (an unknown one, a real one in the wrong case). */
const STATUSES = [...TASK_STATUSES, "deleted", "RUNNING"];

/** A value that fits `schema` (mostly), using the fixtures' real ids and boards where a key names one. */
export function validish(key: string, schema: JsonSchema, pools: Pools): fc.Arbitrary<unknown> {
  if (schema.anyOf && schema.anyOf.length > 0) {
    const branches = schema.anyOf.map((s) => validish(key, s, pools));
    return fc.oneof(...branches);
  }
  if (schema.enum && schema.enum.length > 0) return fc.constantFrom(...schema.enum);
  if (schema.const !== undefined) return fc.constant(schema.const);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case "null":
      return fc.constant(null);
    case "boolean":
      return fc.boolean();
    case "integer":
    case "number": {
      if (/run_id$/.test(key) && pools.runIds.length > 0)
        return fc.oneof(fc.constantFrom(...pools.runIds), fc.integer({ min: 1, max: 1_000_000 }));
      const min = Math.max(schema.minimum ?? -1_000_000, -1_000_000);
      const max = Math.min(schema.maximum ?? 1_000_000, 1_000_000);
      return type === "integer" ? fc.integer({ min, max }) : fc.double({ min, max, noNaN: true });
    }
    case "string": {
      if (key === "board" || key === "slug")
        return fc.oneof(
          { weight: 4, arbitrary: fc.constantFrom(...pools.boards) },
          { weight: 1, arbitrary: fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,20}$/) },
        );
      if (schema.pattern === "^[A-Za-z0-9_-]{1,64}$" || /(^id|_id)$/.test(key)) {
        return fc.oneof(
          { weight: 4, arbitrary: fc.constantFrom(...pools.taskIds) },
          { weight: 1, arbitrary: fc.constantFrom("t_missing", "nope", "t_00000000") },
        );
      }
      if (key === "status") return fc.constantFrom(...STATUSES);
      if (key === "workspace")
        return fc.constantFrom("scratch", "worktree", "dir:/tmp", "dir:../../etc", "worktree:../x", "dir:relative");
      return fc.string({
        maxLength: Math.min(schema.maxLength ?? 40, 40),
        minLength: Math.min(schema.minLength ?? 0, 40),
      });
    }
    case "array": {
      const item = schema.items ? validish(key, schema.items, pools) : fc.jsonValue({ maxDepth: 1 });
      return fc.array(item, { minLength: schema.minItems ?? 0, maxLength: Math.min(schema.maxItems ?? 4, 4) });
    }
    case "object":
      if (schema.properties) return objectOf(schema, pools);
      return fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 });
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/** Every required property and a random subset of the optional ones, each validish. */
export function objectOf(schema: JsonSchema, pools: Pools): fc.Arbitrary<Record<string, unknown>> {
  const props = schema.properties ?? {};
  const required = new Set(schema.required ?? []);
  const record: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [k, s] of Object.entries(props)) record[k] = validish(k, s, pools);
  const requiredKeys = Object.keys(props).filter((k) => required.has(k));
  return fc.record(record, { requiredKeys }) as fc.Arbitrary<Record<string, unknown>>;
}

/**
 * Inputs for one procedure: arbitrary JSON; near-valid objects with one to three properties made
 * hostile; near-valid objects with unknown keys or a required key missing; the wrong container.
 */
export function fuzzInput(schema: JsonSchema | null, pools: Pools): fc.Arbitrary<unknown> {
  if (schema === null || schema.type !== "object") {
    return fc.oneof(fc.constant(undefined), fc.jsonValue({ maxDepth: 3 }), hostileValue());
  }
  const keys = Object.keys(schema.properties ?? {});
  const base = objectOf(schema, pools);
  const withHostile =
    keys.length === 0
      ? base
      : fc
          .tuple(
            base,
            fc.uniqueArray(fc.constantFrom(...keys), { minLength: 1, maxLength: 3 }),
            fc.array(hostileValue(), { minLength: 3, maxLength: 3 }),
          )
          .map(([obj, ks, vals]) => {
            const out: Record<string, unknown> = { ...obj };
            ks.forEach((k, i) => {
              out[k] = vals[i];
            });
            return out;
          });
  const required = schema.required ?? [];
  const missing =
    required.length === 0
      ? base
      : fc.tuple(base, fc.constantFrom(...required)).map(([obj, k]) => {
          const { [k]: _drop, ...rest } = obj;
          return rest;
        });
  const extra = fc
    .tuple(base, fc.string({ minLength: 1, maxLength: 12 }), hostileValue())
    .map(([obj, k, v]) => ({ ...obj, [k]: v }));
  return fc.oneof(
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
    { weight: 2, arbitrary: base },
    { weight: 5, arbitrary: withHostile },
    { weight: 1, arbitrary: missing },
    { weight: 1, arbitrary: extra },
    {
      weight: 1,
      arbitrary: fc.oneof(
        base.map((o) => [o]),
        fc.constant(undefined),
        hostileValue(),
      ),
    },
  );
}

/**
 * fc.assert with a readable failure: fast-check's own report prints the whole counterexample, and
 * ours hold strings of 70,000 characters. The seed and path reproduce the run. `examples` are the first
 * of the `numRuns` inputs (fast-check counts them in), the rest are generated.
 */
export async function assertFuzz<T>(
  property: fc.IAsyncProperty<T>,
  numRuns: number,
  examples: T[] = [],
): Promise<void> {
  // A run that hangs fails with its seed and input instead of running into the test's own timeout,
  // which would say nothing about what hung.
  const out = await fc.check(property, { numRuns, endOnFailure: true, timeout: 10_000, examples });
  if (!out.failed) return;
  const shown = JSON.stringify(out.counterexample)?.slice(0, 600) ?? "";
  const cause = out.errorInstance instanceof Error ? out.errorInstance.message : String(out.errorInstance);
  throw new Error(`${cause.slice(0, 2000)}\n(seed ${out.seed}, path ${out.counterexamplePath}; input ${shown})`);
}
