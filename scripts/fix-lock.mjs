#!/usr/bin/env node
// The npm registry reachable here serves only this platform's binaries: npm then writes a lockfile
// without the other platforms' optional packages (biome, turbo…), and `npm ci` refuses it as out of
// sync. This adds the missing entries, marked optional with their os/cpu (read from the package
// name), so `npm ci` skips them on this platform exactly as it would with a complete lockfile.
// Run after every `npm install` that changes dependencies: `npm run lock:fix`.
import fs from "node:fs";

const file = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(fs.readFileSync(file, "utf8"));
const OS = {
  darwin: "darwin",
  linux: "linux",
  win32: "win32",
  windows: "win32",
  android: "android",
  freebsd: "freebsd",
  openbsd: "openbsd",
  netbsd: "netbsd",
  sunos: "sunos",
  aix: "aix",
};
const CPU = {
  arm64: "arm64",
  x64: "x64",
  64: "x64",
  ia32: "ia32",
  arm: "arm",
  ppc64: "ppc64",
  s390x: "s390x",
  riscv64: "riscv64",
  loong64: "loong64",
  wasm32: "wasm32",
};

let added = 0;
for (const [where, pkg] of Object.entries(lock.packages)) {
  for (const [name, spec] of Object.entries(pkg.optionalDependencies ?? {})) {
    const key = `node_modules/${name}`;
    const nested = where === "" ? key : `${where}/${key}`;
    if (lock.packages[key] || lock.packages[nested]) continue;
    const tokens = name.split("/").pop().split("-");
    const os = tokens.map((t) => OS[t]).find(Boolean);
    const cpu = tokens.map((t) => CPU[t]).find(Boolean);
    if (!cpu || (!os && cpu !== "wasm32")) {
      console.error(`fix-lock: cannot tell the platform of ${name}; leaving it out`);
      continue;
    }
    const entry = { version: String(spec).replace(/^[\^~=]/, ""), cpu: [cpu], optional: true };
    if (os) entry.os = [os];
    if (tokens.includes("musl")) entry.libc = ["musl"];
    lock.packages[key] = entry;
    added++;
  }
}
const keys = Object.keys(lock.packages).sort((a, b) => (a === "" ? -1 : b === "" ? 1 : a < b ? -1 : a > b ? 1 : 0));
lock.packages = Object.fromEntries(keys.map((k) => [k, lock.packages[k]]));
fs.writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`fix-lock: added ${added} optional platform package(s)`);
