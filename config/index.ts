import { dev } from "./environments/dev";
import { environmentSchema, type EnvironmentConfig, type EnvironmentInput } from "./schema";

export type { EnvironmentConfig, EnvironmentInput } from "./schema";

/** The environment variable that picks the environment; unset means `dev`. */
export const ENVIRONMENT_VARIABLE = "SMART_HOME_ENV";

/**
 * The account the local platform (`npm run local`) acts as when an environment names none: twelve
 * zeros, which no real account has, so nothing local can be mistaken for a deployed ARN.
 */
export const LOCAL_ACCOUNT_ID = "000000000000";

/** Every environment this repo can deploy, by name. Add one by adding a file to `environments/`. */
export const environments: Readonly<Record<string, EnvironmentInput>> = { dev };

/** Validates an environment; the error names every bad field and what it should be. */
export function parseEnvironment(input: unknown, label = "config"): EnvironmentConfig {
  const result = environmentSchema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `  - ${issue.path.join(".") || "(root)"}: ${issue.message}`);
  throw new Error(`${label} is invalid:\n${problems.join("\n")}`);
}

/** The environment named by `SMART_HOME_ENV` (default `dev`), validated. */
export function loadEnvironment(name: string = process.env[ENVIRONMENT_VARIABLE] || "dev"): EnvironmentConfig {
  const input = environments[name];
  if (!input) {
    throw new Error(
      `${ENVIRONMENT_VARIABLE}=${name} names no environment; known: ${Object.keys(environments).join(", ")} (see config/environments/)`,
    );
  }
  const config = parseEnvironment(input, `environment "${name}" (config/environments/${name}.ts)`);
  if (config.name !== name) {
    throw new Error(`environment "${name}" declares name "${config.name}"; they must match`);
  }
  return config;
}
