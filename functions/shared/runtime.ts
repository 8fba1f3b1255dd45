import { Logger } from "@aws-lambda-powertools/logger";
import type * as z from "zod/mini";

/** One structured JSON logger per function. */
export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName });
}

/** Parses the function's environment at cold start; a deployment mistake fails loudly and early. */
export function readEnvironment<S extends z.ZodMiniType>(schema: S, source: NodeJS.ProcessEnv = process.env): z.output<S> {
  const result = schema.safeParse(source);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ");
    throw new Error(`function environment is invalid: ${problems}`);
  }
  return result.data;
}
