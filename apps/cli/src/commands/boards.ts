import path from "node:path";
import type { Deps } from "../deps.ts";
import { table, toJson } from "../output.ts";
import { slugArg } from "./parse.ts";
import type { Register } from "./register.ts";

function countsText(counts: Record<string, number>, total: number): string {
  const parts = Object.entries(counts)
    .filter(([s, n]) => n > 0 && s !== "archived")
    .map(([s, n]) => `${s}=${n}`);
  return parts.length === 0 ? "0 tasks" : `${total} tasks (${parts.join(", ")})`;
}

export async function runBoardsList(deps: Deps, opts: { json?: boolean; all?: boolean }): Promise<number> {
  const client = await deps.client();
  const { boards, current } = await client.boards.list.query({ include_archived: opts.all ?? false });
  if (opts.json) {
    deps.io.out(toJson(boards));
    return 0;
  }
  const rows = [["", "SLUG", "NAME", "COUNTS"]];
  for (const b of boards)
    rows.push([
      b.slug === current ? "*" : "",
      b.slug,
      b.archived ? `${b.name} (archived)` : b.name,
      countsText(b.counts, b.total),
    ]);
  for (const line of table(rows)) deps.io.out(line);
  deps.io.out(`Current board: ${current}`);
  return 0;
}

export interface BoardCreateOptions {
  name?: string;
  description?: string;
  icon?: string;
  color?: string;
  switch?: boolean;
  defaultWorkdir?: string;
}

export async function runBoardsCreate(deps: Deps, slug: string, opts: BoardCreateOptions): Promise<number> {
  const client = await deps.client();
  const res = await client.boards.create.mutate({
    slug,
    ...(opts.name !== undefined ? { name: opts.name } : {}),
    ...(opts.description !== undefined ? { description: opts.description } : {}),
    ...(opts.icon !== undefined ? { icon: opts.icon } : {}),
    ...(opts.color !== undefined ? { color: opts.color } : {}),
    ...(opts.defaultWorkdir !== undefined ? { default_workdir: path.resolve(opts.defaultWorkdir) } : {}),
    switch: opts.switch ?? false,
  });
  deps.io.out(`Board ${res.board.slug} ready (${res.board.name}) at ${res.board.db_path}`);
  if (opts.switch) deps.io.out(`Current board: ${res.current}`);
  return 0;
}

export async function runBoardsRemove(deps: Deps, slug: string, opts: { delete?: boolean }): Promise<number> {
  const client = await deps.client();
  const { result } = await client.boards.remove.mutate({ slug, delete: opts.delete ?? false });
  deps.io.out(
    result.action === "deleted"
      ? `Deleted board ${result.slug}`
      : `Archived board ${result.slug} (moved to ${result.new_path})`,
  );
  return 0;
}

export async function runBoardsSwitch(deps: Deps, slug: string): Promise<number> {
  const client = await deps.client();
  const res = await client.boards.switch.mutate({ slug });
  deps.io.out(`Current board: ${res.current}`);
  return 0;
}

export async function runBoardsShow(deps: Deps): Promise<number> {
  const client = await deps.client();
  const { current } = await client.boards.list.query({});
  deps.io.out(current);
  return 0;
}

export async function runBoardsRename(deps: Deps, slug: string, name: string): Promise<number> {
  const client = await deps.client();
  const { board } = await client.boards.update.mutate({ slug, name });
  deps.io.out(`Renamed board ${board.slug} to "${board.name}"`);
  return 0;
}

export async function runBoardsSetWorkdir(deps: Deps, slug: string, dir: string | undefined): Promise<number> {
  const client = await deps.client();
  const value = dir === undefined || dir.trim() === "" ? "" : path.resolve(dir);
  const { board } = await client.boards.update.mutate({ slug, default_workdir: value });
  deps.io.out(
    board.default_workdir
      ? `Default workdir of ${board.slug}: ${board.default_workdir}`
      : `Cleared the default workdir of ${board.slug}`,
  );
  return 0;
}

export const registerBoards: Register = (program, act) => {
  const boards = program.command("boards").summary("list, create, switch and remove boards");
  boards
    .command("list")
    .alias("ls")
    .summary("list boards with task counts (* = current)")
    .option("--json", "print the boards as JSON")
    .option("--all", "include archived boards")
    .action(act((deps, opts: { json?: boolean; all?: boolean }) => runBoardsList(deps, opts)));
  boards
    .command("create")
    .alias("new")
    .summary("create a board (an existing one is kept)")
    .argument("<slug>", "1-64 chars of a-z, 0-9, '-', '_'", slugArg)
    .option("--name <name>", "display name")
    .option("--description <text>", "what the board is for")
    .option("--icon <icon>", "an emoji or short text")
    .option("--color <color>", "a CSS colour")
    .option("--switch", "make it the current board")
    .option("--default-workdir <dir>", "project directory for dir: workspaces")
    .action(act((deps, slug: string, opts: BoardCreateOptions) => runBoardsCreate(deps, slug, opts)));
  boards
    .command("rm")
    .aliases(["remove", "delete"])
    .summary("archive a board (or delete it with --delete)")
    .argument("<slug>", "the board", slugArg)
    .option("--delete", "delete its files instead of archiving")
    .action(act((deps, slug: string, opts: { delete?: boolean }) => runBoardsRemove(deps, slug, opts)));
  boards
    .command("switch")
    .alias("use")
    .summary("make a board the current one")
    .argument("<slug>", "the board", slugArg)
    .action(act((deps, slug: string) => runBoardsSwitch(deps, slug)));
  boards
    .command("show")
    .alias("current")
    .summary("print the current board's slug")
    .action(act((deps) => runBoardsShow(deps)));
  boards
    .command("rename")
    .summary("change a board's display name")
    .argument("<slug>", "the board", slugArg)
    .argument("<name>", "the new display name")
    .action(act((deps, slug: string, name: string) => runBoardsRename(deps, slug, name)));
  boards
    .command("set-default-workdir")
    .summary("set (or, without a path, clear) a board's project directory")
    .argument("<slug>", "the board", slugArg)
    .argument("[path]", "an existing directory")
    .action(act((deps, slug: string, dir: string | undefined) => runBoardsSetWorkdir(deps, slug, dir)));
};
