"use client";

import "react-diff-view/style/index.css";
import "./diff-view.css";
import { useMemo, useState } from "react";
import { Diff, type FileData, type HunkData, type HunkTokens, Hunk, parseDiff, tokenize } from "react-diff-view";
import { refractor } from "refractor/core";
import bash from "refractor/bash";
import css from "refractor/css";
import go from "refractor/go";
import javascript from "refractor/javascript";
import json from "refractor/json";
import jsx from "refractor/jsx";
import markdown from "refractor/markdown";
import python from "refractor/python";
import rust from "refractor/rust";
import sql from "refractor/sql";
import tsx from "refractor/tsx";
import typescript from "refractor/typescript";
import yaml from "refractor/yaml";
import { fileStatusWord, languageOf, startsFolded } from "../lib/gates.ts";
import { Button, cx } from "./ui.tsx";

// The change a round was judged on, rendered by react-diff-view with refractor's highlighting. The
// diff is text from a worker's branch: it is parsed into lines and tokens and rendered as React
// nodes, never as HTML. This module is loaded only when a drawer shows a change (React.lazy).

for (const syntax of [bash, css, go, javascript, json, jsx, markdown, python, rust, sql, tsx, typescript, yaml])
  refractor.register(syntax);

// react-diff-view reads the highlighter's answer as a list of nodes; refractor 5 answers a root.
const highlighter = {
  highlight: (text: string, language: string) => refractor.highlight(text, language).children,
};

function pathOf(file: FileData): string {
  return file.type === "delete" ? file.oldPath : file.newPath;
}

function changedLines(file: FileData): number {
  return file.hunks.reduce((n, h) => n + h.changes.length, 0);
}

function tokensOf(hunks: HunkData[], path: string): HunkTokens | undefined {
  const language = languageOf(path);
  if (language === null || hunks.length === 0) return undefined;
  try {
    // A grammar may choke on a fragment (a hunk starts mid-comment): show it plain rather than fail.
    return tokenize(hunks, {
      highlight: true,
      // biome-ignore lint/suspicious/noExplicitAny: react-diff-view types its refractor option against refractor 3
      refractor: highlighter as any,
      language,
    });
  } catch {
    return undefined;
  }
}

function FileDiff({ file }: { file: FileData }) {
  const path = pathOf(file);
  const lines = changedLines(file);
  // A long file's diff starts folded, so one big file does not bury the others.
  const [open, setOpen] = useState(!startsFolded(lines));
  const tokens = useMemo(() => (open ? tokensOf(file.hunks, path) : undefined), [open, file.hunks, path]);
  return (
    <div data-testid="gate-diff-file" data-path={path} className="overflow-hidden rounded-md border border-line">
      <button
        type="button"
        className="flex w-full items-center gap-2 bg-panel-2 px-2 py-1 text-left font-mono text-[11px] hover:bg-hover"
        aria-expanded={open}
        onClick={() => setOpen(!open)}
      >
        <span className="text-faint">{open ? "▾" : "▸"}</span>
        <span className="min-w-0 flex-1 truncate">{path}</span>
        <span className="text-faint">
          {file.type === "add" ? "added" : file.type === "delete" ? "deleted" : fileStatusWord(file.type.charAt(0))}
          {` · ${lines} ${lines === 1 ? "line" : "lines"}`}
        </span>
      </button>
      {open &&
        (file.hunks.length === 0 ? (
          <p className="px-2 py-1 text-faint text-xs">{file.isBinary ? "Binary file." : "No text changes."}</p>
        ) : (
          <div className="gate-diff max-h-[480px] overflow-auto text-[11px]">
            <Diff viewType="unified" diffType={file.type} hunks={file.hunks} tokens={tokens}>
              {(hunks) => hunks.map((h) => <Hunk key={h.content} hunk={h} />)}
            </Diff>
          </div>
        ))}
    </div>
  );
}

/** A unified diff (git format, several files), one foldable block per file. */
export default function DiffView({ text }: { text: string }) {
  const files = useMemo(() => {
    try {
      return parseDiff(text, { nearbySequences: "zip" });
    } catch {
      return null;
    }
  }, [text]);
  const [all, setAll] = useState(false);
  if (files === null || files.length === 0)
    return (
      <pre className="max-h-64 overflow-auto whitespace-pre-wrap break-words rounded bg-panel-2 p-2 font-mono text-[11px]">
        {text}
      </pre>
    );
  const shown = all ? files : files.slice(0, 30);
  return (
    <div data-testid="gate-diff" className={cx("space-y-1.5")}>
      {shown.map((f) => (
        <FileDiff key={`${f.oldPath}->${f.newPath}`} file={f} />
      ))}
      {files.length > shown.length && (
        <Button size="sm" variant="ghost" onClick={() => setAll(true)}>
          Show all {files.length} files
        </Button>
      )}
    </div>
  );
}
