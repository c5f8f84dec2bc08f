import ReactMarkdown, { type Components } from "react-markdown";
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
};

/**
 * Markdown written by people and agents, rendered safely: raw HTML is dropped (never parsed),
 * and only http(s)/mailto links survive, opening in a new tab without a referrer or opener.
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
      <ReactMarkdown skipHtml urlTransform={(url) => safeUrl(url) ?? ""} components={components}>
        {text}
      </ReactMarkdown>
    </div>
  );
}
