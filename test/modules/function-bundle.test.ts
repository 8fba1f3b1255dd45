import { unzipSync } from "fflate";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NodejsFunction } from "../../modules/nodejs-function";
import { bundleFunction } from "../../modules/function-bundle";
import { functionIds, ProjectFunction } from "../../stacks/functions";
import { projectNames } from "../../contracts/names";
import { TerraformStack, Testing } from "cdktf";
import { LambdaFunction } from "@cdktf/provider-aws/lib/lambda-function";

const entry = (name: string) => join(__dirname, "..", "..", "functions", name, "index.ts");
const FUNCTIONS = readdirSync(join(__dirname, "..", "..", "functions")).filter((name) => name !== "shared");

it("the function list is the function folders (derived, so synth bundles every one in one run)", () => {
  expect(functionIds()).toEqual([...FUNCTIONS].sort());
  expect(functionIds()).toHaveLength(5);
});

it("a ProjectFunction takes its entry, name and role from its id, and refuses an id with no folder", () => {
  const names = projectNames("smarthome", "dev");
  const stack = new TerraformStack(Testing.app(), "s");
  const fn = new ProjectFunction(stack, "daily-check", { names, description: "d", environment: {}, logRetentionDays: 7 });
  expect(fn.node.id).toBe("daily-check");
  const synthesized = JSON.parse(Testing.synth(stack));
  const [lambda] = Object.values<any>(synthesized.resource.aws_lambda_function);
  expect(lambda.function_name).toBe("smarthome-dev-daily-check");
  expect(Object.values<any>(synthesized.resource.aws_iam_role)[0].name).toBe("smarthome-dev-daily-check");
  expect(() => new ProjectFunction(stack, "no-such-function", { names, description: "d", environment: {}, logRetentionDays: 7 })).toThrow(
    "no function no-such-function: functions/no-such-function/index.ts does not exist",
  );
});
const LIMIT_BYTES = 500 * 1024;

describe("function bundles", () => {
  it.each(FUNCTIONS)("%s: one minified index.js of at most 500 KB, exporting handler", (name) => {
    const bundle = bundleFunction(entry(name), mkdtempSync(join(tmpdir(), "bundle-")));
    const files = unzipSync(readFileSync(bundle.zipPath));
    expect(Object.keys(files)).toEqual(["index.js"]);
    expect(bundle.codeBytes).toBeLessThanOrEqual(LIMIT_BYTES);
    expect(Buffer.from(files["index.js"]!).toString("utf8")).toMatch(/handler/);
  });

  it("is reproducible: the same code gives the same zip and hash in another directory", () => {
    const first = bundleFunction(entry("daily-check"), mkdtempSync(join(tmpdir(), "bundle-")));
    const second = bundleFunction(entry("daily-check"), mkdtempSync(join(tmpdir(), "bundle-")));
    expect(second.sha256).toBe(first.sha256);
    expect(readFileSync(second.zipPath)).toEqual(readFileSync(first.zipPath));
  });

  it("#8.16 reuses the previous build while no input changed, and rebuilds when one does (inputs in a temp dir, never the work tree)", () => {
    // A throw-away function: touching one of its inputs must not change a tracked file's timestamp.
    const source = join(mkdtempSync(join(tmpdir(), "function-source-")), "probe");
    mkdirSync(source);
    const helper = join(source, "message.ts");
    writeFileSync(helper, 'export const message = "unchanged";\n');
    writeFileSync(join(source, "index.ts"), 'import { message } from "./message";\nexport const handler = async () => message;\n');
    const directory = mkdtempSync(join(tmpdir(), "bundle-"));
    const first = bundleFunction(join(source, "index.ts"), directory);
    const recordPath = join(directory, "probe.build.json");
    const record = readFileSync(recordPath, "utf8");
    expect(bundleFunction(join(source, "index.ts"), directory)).toEqual(first);
    expect(readFileSync(recordPath, "utf8")).toBe(record);
    const later = new Date(Date.now() + 5_000);
    utimesSync(helper, later, later);
    expect(bundleFunction(join(source, "index.ts"), directory).sha256).toBe(first.sha256);
    expect(readFileSync(recordPath, "utf8")).not.toBe(record);
  });
});

describe("NodejsFunction", () => {
  it("deploys the bundle on nodejs22.x arm64 with its hash, JSON logs and a role that only writes its logs", () => {
    const synthesized = Testing.synthScope(
      (scope) =>
        new NodejsFunction(scope, "fn", {
          functionName: "acme-dev-check",
          roleName: "acme-dev-check",
          entry: entry("daily-check"),
          description: "test",
          environment: { DEVICE_TABLE: "t", ALERTS_TOPIC_ARN: "arn:aws:sns:eu-west-1:1:t" },
          logRetentionDays: 14,
        }),
    );
    expect(synthesized).toHaveResourceWithProperties(LambdaFunction, {
      function_name: "acme-dev-check",
      runtime: "nodejs22.x",
      architectures: ["arm64"],
      handler: "index.handler",
      memory_size: 256,
      timeout: 10,
      environment: { variables: { DEVICE_TABLE: "t", ALERTS_TOPIC_ARN: "arn:aws:sns:eu-west-1:1:t" } },
    });
    const json = JSON.parse(synthesized);
    expect(Object.values<any>(json.resource.aws_cloudwatch_log_group)[0]).toMatchObject({ name: "/aws/lambda/acme-dev-check", retention_in_days: 14 });
    const policies = Object.values<any>(json.resource.aws_iam_role_policy).map((p) => JSON.parse(p.policy));
    expect(policies).toEqual([
      expect.objectContaining({ Statement: [expect.objectContaining({ Action: ["logs:CreateLogStream", "logs:PutLogEvents"] })] }),
    ]);
  });
});
