// Types of build-conditions.mjs for the vitest configs that import it (they are type-checked).
import type { UserConfig } from "vite";

export declare const SOURCE_CONDITION: "@kanban/source";
export declare function nodeOptionsWithSource(current?: string): string;
export declare const sourceResolution: Pick<UserConfig, "resolve" | "ssr">;
export declare const sourceTestEnv: { NODE_OPTIONS: string };
