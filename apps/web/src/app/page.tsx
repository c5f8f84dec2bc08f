import { Suspense } from "react";
import { BoardApp } from "../components/board-app.tsx";
import { Providers } from "../components/providers.tsx";

export default function Page() {
  return (
    <Providers>
      {/* The board reads ?board and ?task from the URL, which needs a Suspense boundary. */}
      <Suspense fallback={<div className="p-6 text-muted">Loading board…</div>}>
        <BoardApp />
      </Suspense>
    </Providers>
  );
}
