import { Suspense } from "react";
import { AnalyticsView } from "../../components/analytics-view.tsx";
import { Providers } from "../../components/providers.tsx";

export const metadata = { title: "Analytics · Kanban" };

export default function AnalyticsPage() {
  return (
    <Providers>
      {/* The page reads ?board, ?since and ?cards from the URL, which needs a Suspense boundary. */}
      <Suspense fallback={<div className="p-6 text-muted">Loading analytics…</div>}>
        <AnalyticsView />
      </Suspense>
    </Providers>
  );
}
