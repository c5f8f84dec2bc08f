import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { Markdown } from "./markdown.tsx";

function html(text: string): string {
  return renderToStaticMarkup(createElement(Markdown, { text }));
}

describe("Markdown (GitHub-flavoured, safe)", () => {
  it("renders a GFM table as a table", () => {
    const out = html("| step | owner |\n| --- | --- |\n| export | coder |\n| docs | writer |\n");
    expect(out).toContain("<table>");
    expect(out).toContain("<th>step</th>");
    expect(out).toContain("<td>writer</td>");
  });

  it("renders a task list with read-only check boxes, checked where ticked", () => {
    const out = html("- [x] schema\n- [ ] exporter\n");
    expect(out).toMatch(/<li class="task-list-item"><input type="checkbox" disabled="" checked=""\/> ?schema<\/li>/);
    expect(out).toMatch(/<input type="checkbox" disabled=""\/> ?exporter/);
  });

  it("renders strikethrough, and still drops raw HTML and unsafe links", () => {
    const out = html(
      "~~old~~ <script>alert(1)</script> <b>bold</b> [x](javascript:alert(1))\n\n| a |\n| - |\n| <img src=x onerror=alert(1)> |",
    );
    expect(out).toContain("<del>old</del>");
    expect(out).not.toContain("<script");
    expect(out).not.toContain("<b>");
    expect(out).not.toContain("onerror");
    expect(out).not.toContain("javascript:");
  });
});
