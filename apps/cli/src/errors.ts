import { TRPCClientError } from "@trpc/client";
import { CommanderError } from "commander";
import { ConfigError } from "./config.ts";

/** Exit codes of every verb: 0 ok, 1 failed, 2 usage (bad flags or arguments). */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** Bad arguments found after commander parsed them (malformed JSON, a flag combination…): exit 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** A refusal the verb words itself (`cannot reclaim …`): exit 1. */
export class CliFailure extends Error {
  override readonly name = "CliFailure";
}

interface ErrorData {
  code?: string;
  httpStatus?: number;
  kanbanCode?: string | null;
  details?: Record<string, unknown> | null;
  zodError?: unknown;
}

/** The `data` of an API error, whichever transport it came through. */
export function errorData(err: unknown): ErrorData | null {
  if (!(err instanceof TRPCClientError)) return null;
  const data = (err as TRPCClientError<never>).data as ErrorData | undefined | null;
  return data ?? null;
}

/** The stable code of an API error: the kernel's/db's (`NOT_FOUND`, `STALE_RUN`…), else tRPC's. */
export function errorCode(err: unknown): string | null {
  const data = errorData(err);
  return data?.kanbanCode ?? data?.code ?? null;
}

function firstLine(text: string): string {
  return (
    text
      .split("\n")
      .find((l) => l.trim() !== "")
      ?.trim() ?? text.trim()
  );
}

/**
 * Maps anything a verb threw to one stderr line and an exit code. This is the only place errors
 * become exit codes; no stack trace ever reaches the user.
 */
export function describeError(err: unknown, apiUrl: string | null): { message: string; exitCode: number } {
  if (err instanceof CommanderError) {
    const help =
      err.code === "commander.helpDisplayed" || err.code === "commander.version" || err.code === "commander.help";
    return { message: firstLine(err.message.replace(/^error: /, "")), exitCode: help ? EXIT.ok : EXIT.usage };
  }
  if (err instanceof UsageError) return { message: firstLine(err.message), exitCode: EXIT.usage };
  if (err instanceof CliFailure || err instanceof ConfigError)
    return { message: firstLine(err.message), exitCode: EXIT.failed };
  if (err instanceof TRPCClientError) {
    const data = errorData(err);
    if (!data) {
      // No error envelope: the request never reached a tRPC server (refused, DNS, not our API).
      const cause = (err as Error & { cause?: unknown }).cause;
      const why =
        cause instanceof Error
          ? (((cause as Error & { cause?: unknown }).cause as Error | undefined)?.message ?? cause.message)
          : err.message;
      return { message: `cannot reach the API at ${apiUrl ?? "(local)"}: ${firstLine(why)}`, exitCode: EXIT.failed };
    }
    // The input did not fit the procedure's schema: the command line was wrong.
    if (data.zodError) return { message: firstLine(err.message), exitCode: EXIT.usage };
    return { message: firstLine(err.message), exitCode: EXIT.failed };
  }
  if (err instanceof Error) return { message: firstLine(err.message) || err.name, exitCode: EXIT.failed };
  return { message: String(err), exitCode: EXIT.failed };
}
