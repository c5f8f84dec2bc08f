import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

/** A real git repository at `dir` with one commit (README = "hello\n") on `main`. */
export function gitRepo(dir: string): string {
  const git = (...args: string[]) => execFileSync("git", args, { cwd: dir, stdio: "ignore" });
  fs.mkdirSync(dir, { recursive: true });
  git("init", "-q", "-b", "main");
  fs.writeFileSync(path.join(dir, "README"), "hello\n");
  git("add", "README");
  git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "init");
  return dir;
}
