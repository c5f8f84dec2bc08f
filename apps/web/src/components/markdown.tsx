import ReactMarkdown, { type Components } from "react-markdown";
import remarkGfm from "remark-gfm";
import { safeUrl } from "../lib/safe-url.ts";

const components: Components = {
  a: ({ href, children }) => {
    const url = safeUrl(href);
    if (url === null) return <span>{children}</span>;
    return (
      <a href={url} target="_blank" rel="noopener noreferrer">
        {children}
      </a>
    );
  },
  // Images would fetch from wherever an agent pointed them; show the alt text instead.
  img: ({ alt }) => <span className="text-muted">[image: {alt}]</span>,
  // A wide table scrolls inside the card body instead of pushing the drawer sideways.
  table: ({ children }) => (
    <div className="md-table">
      <table>{children}</table>
    </div>
  ),
};

/** GitHub-flavoured markdown: tables, task lists, strikethrough, autolinks (what agents write). */
const remarkPlugins = [remarkGfm];

/**
 * Markdown written by people and agents (GitHub-flavoured), rendered safely: raw HTML is dropped
 * (never parsed), and only http(s)/mailto links survive, opening in a new tab without a referrer or
 * opener. Task-list boxes are shown read-only (React renders them disabled).
 */
export function Markdown({ text, plain, testId }: { text: string; plain?: boolean; testId?: string }) {
  if (plain) {
    return (
      <pre data-testid={testId} className="whitespace-pre-wrap break-words font-sans">
        {text}
      </pre>
    );
  }
  return (
    <div data-testid={testId} className="md break-words">
      <ReactMarkdown
        skipHtml
        remarkPlugins={remarkPlugins}
        urlTransform={(url) => safeUrl(url) ?? ""}
        components={components}
      >
        {text}
      </ReactMarkdown>
    </div>
  );
}
