// Types of scripts/bench-table.mjs for bench/run.ts.
/** The markdown benchmark table (with its date, machine and command lines) of a bench results object. */
export function benchTable(results: unknown): string;
