import { join } from "node:path";
import { bundleFunctions } from "../modules/function-bundle";

/** Every Lambda of the platform: a folder under functions/ with an index.ts exporting `handler`. */
export const FUNCTION_NAMES = ["device-presence", "daily-check", "alert-formatter", "provisioning-hook", "serial-api"] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];

export function functionEntry(name: FunctionName): string {
  return join(__dirname, "..", "functions", name, "index.ts");
}

/**
 * Bundles every function in one esbuild run (they share most of their code, so one run costs far
 * less than one per function); each stack's NodejsFunction then finds its bundle already built.
 */
export function bundleAllFunctions(): void {
  bundleFunctions(FUNCTION_NAMES.map(functionEntry));
}
