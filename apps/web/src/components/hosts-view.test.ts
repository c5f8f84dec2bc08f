import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import type { HostRow } from "../lib/types.ts";
import { HostsTable } from "./hosts-view.tsx";
import { LabelChips } from "./labels-input.tsx";

const NOW = 1_800_000_000;

function row(over: Partial<HostRow>): HostRow {
  return {
    id: "kh-00000000000000a1",
    name: "mac-1",
    labels: ["macos", "xcode"],
    version: "0.1.0",
    capacity: 4,
    running: 2,
    tenant: null,
    first_seen_at: NOW - 3600,
    last_seen_at: NOW - 3,
    lease_seconds: 30,
    connected: true,
    ...over,
  } as HostRow;
}

function html(hosts: HostRow[], stale = false): string {
  return renderToStaticMarkup(createElement(HostsTable, { hosts, now: NOW, stale }));
}

/** The rows' host ids in the order drawn, with their connected flag. */
function rows(out: string): string[] {
  return [...out.matchAll(/data-host-id="([^"]+)" data-connected="(true|false)"/g)].map((m) => `${m[1]}:${m[2]}`);
}

describe("HostsTable", () => {
  it("shows each host's name, id, labels, version, last seen, workers over capacity and status", () => {
    const out = html([row({})]);
    expect(out).toContain(">mac-1</div>");
    expect(out).toContain("kh-00000000000000a1");
    expect(out).toContain(">macos</span>");
    expect(out).toContain(">xcode</span>");
    expect(out).toMatch(/data-testid="host-version"[^>]*>0\.1\.0</);
    expect(out).toMatch(/data-testid="host-last-seen"[^>]*>just now</);
    expect(out).toMatch(/data-testid="host-workers"[^>]*>2 \/ 4</);
    expect(out).toMatch(/data-testid="host-status"[^>]*>.*Connected</);
  });

  it("lists connected hosts first, as the server answered them", () => {
    const hosts = [
      row({ id: "kh-00000000000000b2", name: "a-silent", last_seen_at: NOW - 120, connected: true }),
      row({ id: "kh-00000000000000c3", name: "b-gone", connected: false, last_seen_at: NOW - 600 }),
      row({ id: "kh-00000000000000a1", name: "z-alive" }),
    ];
    const fresh = html(hosts);
    expect(rows(fresh)).toEqual(["kh-00000000000000b2:true", "kh-00000000000000a1:true", "kh-00000000000000c3:false"]);
    expect(fresh).toMatch(/data-host-id="kh-00000000000000b2"[\s\S]*?data-testid="host-last-seen"[^>]*>2m ago</);
    expect(fresh.match(/>Disconnected</g)?.length).toBe(1);
    // When the answers stopped coming, a host past its lease is no longer shown connected.
    const stale = html(hosts, true);
    expect(rows(stale)).toEqual(["kh-00000000000000a1:true", "kh-00000000000000b2:false", "kh-00000000000000c3:false"]);
    expect(stale.match(/>Disconnected</g)?.length).toBe(2);
  });

  it("names a host without a name by its id, shows its tenant, and says when it has no labels or version", () => {
    const out = html([row({ name: null, labels: [], version: null, capacity: null, tenant: "acme" })]);
    expect(out).toMatch(/data-testid="host-name"[^>]*>kh-00000000000000a1</);
    expect(out).toContain(">acme</span>");
    expect(out).toContain(">none</span>");
    expect(out).toMatch(/data-testid="host-version"[^>]*>—</);
    expect(out).toMatch(/data-testid="host-workers"[^>]*>2 \/ —</);
  });

  it("tells how to connect a host when there is none", () => {
    const out = html([]);
    expect(out).toContain('data-testid="hosts-empty"');
    expect(out).toContain("kanban-dispatcher --server &lt;url&gt; --token &lt;host token&gt;");
    expect(out).not.toContain("<table");
  });
});

describe("LabelChips", () => {
  it("draws one chip per label, cut to max with the rest counted, and nothing for none", () => {
    const out = renderToStaticMarkup(
      createElement(LabelChips, { labels: ["a", "b", "c", "d"], testId: "card-requires", max: 3 }),
    );
    expect(out.match(/data-testid="card-requires"/g)?.length).toBe(3);
    expect(out).toContain(">+1</span>");
    expect(renderToStaticMarkup(createElement(LabelChips, { labels: [] }))).toBe("");
  });
});
