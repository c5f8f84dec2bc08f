// Types of web-build.mjs for the TypeScript that imports it (the browser suite's global setup).
export declare function newestUnder(p: string): number;
export declare function webBuildInputs(root: string): string[];
export declare function webBuildIsStale(root: string): boolean;
