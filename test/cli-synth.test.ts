import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const root = join(__dirname, "..");

describe("npx cdktf synth (the CLI, as a user runs it)", () => {
  it("writes every stack offline with no AWS credentials", async () => {
    const output = mkdtempSync(join(tmpdir(), "cdktf-out-"));
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^AWS_/.test(name) && name !== "SMART_HOME_ENV"));
    await promisify(execFile)("npx", ["cdktf", "synth", "--output", output], {
      cwd: root,
      env: { ...env, CHECKPOINT_DISABLE: "1", CI: "1", HOME: mkdtempSync(join(tmpdir(), "home-")) },
      timeout: 120_000,
    });
    for (const id of ["state", "vpc", "connect", "roles", "ecr", "ec2", "iot", "iot-fleet", "api"]) {
      const file = join(output, "stacks", id, "cdk.tf.json");
      expect(existsSync(file)).toBe(true);
      expect(JSON.parse(readFileSync(file, "utf8")).provider.aws[0].region).toBe("eu-west-1");
    }
  }, 120_000);
});
