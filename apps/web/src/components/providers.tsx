"use client";

import { MutationCache, QueryCache, QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { type ReactNode, useState } from "react";
import { writeToken } from "../lib/token.ts";
import { httpStatusOf, makeTRPCClient, TRPCProvider } from "../trpc/react.tsx";
import { DialogProvider } from "./dialogs.tsx";
import { ToastProvider } from "./toasts.tsx";
import { Button, Input } from "./ui.tsx";

function TokenGate({ onSave }: { onSave: (token: string) => void }) {
  const [value, setValue] = useState("");
  return (
    <div className="fixed inset-0 z-50 grid place-items-center bg-black/40 p-4">
      <form
        className="w-full max-w-sm space-y-3 rounded-xl border border-line bg-panel p-5 shadow-pop"
        onSubmit={(e) => {
          e.preventDefault();
          if (value.trim()) onSave(value.trim());
        }}
      >
        <h2 className="font-semibold text-[15px]">This board needs a token</h2>
        <p className="text-muted">
          The server runs with KANBAN_TOKEN. Paste it (or a tenant token) to continue; it stays in this browser.
        </p>
        <label htmlFor="kanban-token" className="block space-y-1 text-muted text-xs">
          Token
        </label>
        <Input
          id="kanban-token"
          type="password"
          autoFocus
          value={value}
          onChange={(e) => setValue(e.target.value)}
          data-testid="token-input"
        />
        <div className="flex justify-end">
          <Button variant="primary" type="submit">
            Continue
          </Button>
        </div>
      </form>
    </div>
  );
}

/** Query cache, tRPC client, dialogs and toasts for the whole board; asks for a token on 401. */
export function Providers({ children }: { children: ReactNode }) {
  const [needsToken, setNeedsToken] = useState(false);
  const [queryClient] = useState(() => {
    const onError = (err: unknown) => {
      if (httpStatusOf(err) === 401) setNeedsToken(true);
    };
    return new QueryClient({
      queryCache: new QueryCache({ onError }),
      mutationCache: new MutationCache({ onError }),
      defaultOptions: {
        queries: {
          // Live events invalidate what changed, so a cached answer stays good for a while.
          staleTime: 30_000,
          refetchOnWindowFocus: true,
          retry: (count, err) => {
            const status = httpStatusOf(err);
            return count < 2 && (status === null || status >= 500);
          },
        },
      },
    });
  });
  const [trpcClient] = useState(() => makeTRPCClient());
  return (
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>
        <ToastProvider>
          <DialogProvider>
            {children}
            {needsToken && (
              <TokenGate
                onSave={(token) => {
                  writeToken(token);
                  setNeedsToken(false);
                  void queryClient.invalidateQueries();
                }}
              />
            )}
          </DialogProvider>
        </ToastProvider>
      </TRPCProvider>
    </QueryClientProvider>
  );
}
