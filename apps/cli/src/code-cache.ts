// Loads the bundled CLI (CommonJS chunks, see build/cjs-chunks.mjs) through V8's code cache. Agents
// start `kanban` for every heartbeat and comment, and on Node 20 (which has no
// module.enableCompileCache) a large part of a short verb's start is V8 compiling the bundle. Here
// the first run that loads a chunk compiles it as usual and, once its verb has finished, writes the
// bytecode V8 made along the way; later runs read that instead of compiling.
//
// The chunks require each other by relative path: those are loaded here, each once, and every other
// name (Node's built-ins, the native modules) goes to Node's own require from the chunk's directory.
//
// A cache is code this process will run, so it is only read from a directory the user alone can
// write (mode 0700, owned by them), and only for the exact chunk it was made from: V8 itself checks
// its own version and flags, but of the source only the length, so each cache file also records the
// chunk's path, size, modification time and inode, and is ignored when any of them differ.
import crypto from "node:crypto";
import fs from "node:fs";
import Module, { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import vm from "node:vm";

/** Set to 1 to neither read nor write the cache. */
export const NO_CACHE_ENV = "KANBAN_NO_COMPILE_CACHE";

export interface LoadedBundle<T> {
  exports: T;
  /** The chunks loaded so far, and whether V8 ran each from a cache it accepted. */
  chunks(): { file: string; cacheHit: boolean }[];
  /** Writes a cache for each chunk this run compiled (call it once the verb is done). */
  saveCache(): void;
}

/** `$XDG_CACHE_HOME/kanban/v8`, or `~/.cache/kanban/v8`. */
export function cacheDirectory(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  return path.join(xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), ".cache"), "kanban", "v8");
}

/** Owned by this user and writable by no one else (a cache another user could write is refused). */
function onlyMine(st: fs.Stats): boolean {
  const uid = process.getuid?.();
  return (uid === undefined || st.uid === uid) && (st.mode & 0o022) === 0;
}

function privateDirectory(dir: string): boolean {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch {
    return false;
  }
  return existingPrivateDirectory(dir);
}

const sha256 = (data: Uint8Array) => crypto.createHash("sha256").update(data).digest("hex");

/**
 * A cache file: 4 bytes of header length, the header (the chunk's stamp and a digest of the rest),
 * then V8's data. V8 does not check its data's integrity (a damaged cache crashes the process), so
 * the digest does.
 */
function readCache(cacheFile: string, stamp: string): Buffer | undefined {
  try {
    const st = fs.lstatSync(cacheFile);
    if (!st.isFile() || !onlyMine(st)) return undefined;
    const data = fs.readFileSync(cacheFile);
    if (data.length < 4) return undefined;
    const headerEnd = 4 + data.readUInt32LE(0);
    const header = JSON.parse(data.subarray(4, headerEnd).toString("utf8")) as { stamp?: unknown; sha256?: unknown };
    const code = data.subarray(headerEnd);
    return header.stamp === stamp && header.sha256 === sha256(code) ? code : undefined;
  } catch {
    return undefined;
  }
}

function writeCache(cacheFile: string, stamp: string, code: Buffer): void {
  const header = Buffer.from(JSON.stringify({ stamp, sha256: sha256(code) }), "utf8");
  const length = Buffer.alloc(4);
  length.writeUInt32LE(header.length, 0);
  // Written aside and renamed, so a reader never sees half a file and two writers do not mix.
  const tmp = `${cacheFile}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(tmp, Buffer.concat([length, header, code]), { mode: 0o600, flag: "wx" });
    fs.renameSync(tmp, cacheFile);
  } catch {
    fs.rmSync(tmp, { force: true });
  }
}

/**
 * Removes the caches of chunks that no longer exist (a rebuilt or upgraded CLI names its chunks by
 * their content) and temporary files a killed writer left behind, so the directory does not grow.
 */
function pruneStale(dir: string, now: number): void {
  for (const name of fs.readdirSync(dir)) {
    const file = path.join(dir, name);
    try {
      if (name.endsWith(".tmp")) {
        if (now - fs.statSync(file).mtimeMs > 60_000) fs.rmSync(file, { force: true });
        continue;
      }
      if (!name.endsWith(".cache")) continue;
      const fd = fs.openSync(file, "r");
      let header: Buffer;
      try {
        const length = Buffer.alloc(4);
        fs.readSync(fd, length, 0, 4, 0);
        header = Buffer.alloc(Math.min(length.readUInt32LE(0), 64 * 1024));
        fs.readSync(fd, header, 0, header.length, 4);
      } finally {
        fs.closeSync(fd);
      }
      const [chunk] = JSON.parse(JSON.parse(header.toString("utf8")).stamp) as [string];
      if (!fs.existsSync(chunk)) fs.rmSync(file, { force: true });
    } catch {
      // Unreadable or not ours: a later load ignores it anyway.
    }
  }
}

/** The cache directory, when it exists and only this user can write it. */
function existingPrivateDirectory(dir: string): boolean {
  try {
    const st = fs.lstatSync(dir);
    return st.isDirectory() && onlyMine(st);
  } catch {
    return false;
  }
}

type Wrapper = (exports: unknown, require: NodeJS.Require, module: Module, filename: string, dirname: string) => void;

interface Chunk {
  file: string;
  module: Module;
  script: vm.Script;
  stamp: string;
  cacheFile: string;
  cacheHit: boolean;
}

/**
 * Runs the CommonJS file `entry` as Node would (its own `require`, `module`, `__filename` and
 * `__dirname`), and the chunks it requires by relative path likewise; returns the entry's exports.
 * Any trouble with a cache only costs the compile it would have saved.
 */
export function loadWithCodeCache<T>(entry: string, env: NodeJS.ProcessEnv = process.env): LoadedBundle<T> {
  const use = env[NO_CACHE_ENV] !== "1";
  const dir = cacheDirectory(env);
  const readable = use && existingPrivateDirectory(dir);
  const loaded = new Map<string, Chunk>();

  function load(file: string): unknown {
    const known = loaded.get(file);
    if (known) return known.module.exports;
    const source = fs.readFileSync(file, "utf8");
    const st = fs.statSync(file);
    const stamp = JSON.stringify([file, st.size, st.mtimeMs, st.ino, st.dev, process.version, process.arch]);
    const key = crypto.createHash("sha256").update(file).digest("hex").slice(0, 24);
    const cacheFile = path.join(dir, `${path.basename(file)}-${key}.cache`);
    const cachedData = readable ? readCache(cacheFile, stamp) : undefined;
    // No importModuleDynamically: the chunks have no import() (build/cjs-chunks.mjs turns each into
    // a require()), and V8 would not keep that hook for code it runs from a cache anyway.
    const script = new vm.Script(Module.wrap(source), { filename: file, cachedData });
    const mod = new Module(file);
    mod.filename = file;
    const cacheHit = cachedData !== undefined && !script.cachedDataRejected;
    // Registered before it runs, so that chunks requiring each other get the same (partial) exports.
    loaded.set(file, { file, module: mod, script, stamp, cacheFile, cacheHit });
    const nodeRequire = createRequire(file);
    const here = path.dirname(file);
    const chunkRequire = ((id: string) =>
      id.startsWith("./") || id.startsWith("../") ? load(path.resolve(here, id)) : nodeRequire(id)) as NodeJS.Require;
    Object.assign(chunkRequire, { resolve: nodeRequire.resolve, cache: nodeRequire.cache, main: nodeRequire.main });
    (script.runInThisContext() as Wrapper).call(mod.exports, mod.exports, chunkRequire, mod, file, here);
    return mod.exports;
  }

  const exports = load(path.resolve(entry)) as T;
  let saved = !use;
  return {
    exports,
    chunks: () => [...loaded.values()].map((c) => ({ file: c.file, cacheHit: c.cacheHit })),
    saveCache() {
      if (saved) return;
      saved = true;
      const compiled = [...loaded.values()].filter((c) => !c.cacheHit);
      if (compiled.length === 0 || !privateDirectory(dir)) return;
      // Made after the run, the data also holds the functions this verb compiled lazily.
      for (const c of compiled) writeCache(c.cacheFile, c.stamp, c.script.createCachedData());
      pruneStale(dir, Date.now());
    },
  };
}
