import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import {
  alertFormatterEnvironment,
  alertFormatterVariables,
  dailyCheckEnvironment,
  dailyCheckVariables,
  devicePresenceEnvironment,
  devicePresenceVariables,
  provisioningHookEnvironment,
  provisioningHookVariables,
  serialApiEnvironment,
  serialApiVariables,
} from "../../contracts/function-environments";
import { synthAll } from "../helpers/synth";

/**
 * Issue #9: the local platform builds from the stacks' typed fields and the contracts, never from
 * synthesized JSON, and the Lambdas' variable names live only in contracts/function-environments.ts.
 */
const schemas = {
  "device-presence": devicePresenceEnvironment,
  "daily-check": dailyCheckEnvironment,
  "alert-formatter": alertFormatterEnvironment,
  "provisioning-hook": provisioningHookEnvironment,
  "serial-api": serialApiEnvironment,
};
const variableNames = [...new Set(Object.values(schemas).flatMap((schema) => Object.keys(schema.shape)))];

function sourceFiles(directory: string): string[] {
  return readdirSync(directory).flatMap((name) => {
    const path = join(directory, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith(".ts") ? [path] : [];
  });
}

describe("the local platform derives from the stacks", () => {
  const files = sourceFiles(join(__dirname, "..", "..", "local"));

  test("no file in local/ names a Lambda environment variable, reads Terraform references or mutates process.env", () => {
    expect(files.length).toBeGreaterThan(15);
    expect(variableNames).toHaveLength(10);
    const findings = files.flatMap((file) => {
      const text = readFileSync(file, "utf8");
      const names = variableNames.filter((name) => new RegExp(`\\b${name}\\b`).test(text));
      const patterns = ["remote-state-", "${jsonencode(", "Object.assign(process.env", "process.env["].filter((pattern) => text.includes(pattern));
      return [...names, ...patterns].map((finding) => `${file}: ${finding}`);
    });
    expect(findings).toEqual([]);
  });

  test("every deployed function's variables are the ones its settings produce, and they parse with its schema", () => {
    const functions = Object.values(synthAll()).flatMap((stack) => Object.values(stack.resource?.aws_lambda_function ?? {}));
    const byPurpose = new Map(functions.map((fn) => [String(fn.function_name).replace(/^smarthome-dev-/, ""), fn]));
    const produced: Record<keyof typeof schemas, Record<string, string>> = {
      "device-presence": devicePresenceVariables({ deviceTable: "t", alertsTopicArn: "arn:aws:sns:r:1:t", presenceCheckQueueUrl: "https://sqs.r.amazonaws.com/1/q", offlineGraceSeconds: 300 }),
      "daily-check": dailyCheckVariables({ deviceTable: "t", alertsTopicArn: "arn:aws:sns:r:1:t", dailyDigest: true }),
      "alert-formatter": alertFormatterVariables({ slackWebhookSecretId: "s" }),
      "provisioning-hook": provisioningHookVariables({ serialTable: "t", activeClaimCertificatesJson: "[]", thingNamePrefix: "p", strandedAfterSeconds: 600 }),
      "serial-api": serialApiVariables({ serialTable: "t" }),
    };
    let compared = 0;
    for (const [purpose, variables] of Object.entries(produced) as [keyof typeof schemas, Record<string, string>][]) {
      expect(schemas[purpose].safeParse(variables).success).toBe(true);
      const deployed = byPurpose.get(purpose);
      if (!deployed) continue; // alert-formatter exists only with Slack configured
      expect(Object.keys(deployed.environment.variables).sort()).toEqual(Object.keys(variables).sort());
      compared += 1;
    }
    expect(compared).toBe(functions.length);
    expect(compared).toBeGreaterThanOrEqual(4);
  });
});
