import { execFile } from "node:child_process";
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { promisify } from "node:util";

const root = join(__dirname, "..");

const executableIn = (directory: string, name: string) => {
  try {
    accessSync(join(directory, name), constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/**
 * PATH without any directory holding a terraform binary: synth must not need one (cdktf's own check
 * for moved blocks runs `terraform version`; stacks/project-stack.ts turns it off). Node, npm and
 * npx are linked into a directory of their own in case they sit beside terraform.
 */
function pathWithoutTerraform(): string {
  const tools = mkdtempSync(join(tmpdir(), "tools-"));
  for (const name of ["node", "npm", "npx"]) symlinkSync(join(dirname(process.execPath), name), join(tools, name));
  const kept = (process.env.PATH ?? "").split(delimiter).filter((directory) => directory && !executableIn(directory, "terraform"));
  return [tools, ...kept].join(delimiter);
}

describe("npx cdktf synth (the CLI, as a user runs it)", () => {
  it("writes every stack offline, with no AWS credentials and no terraform binary", async () => {
    const output = mkdtempSync(join(tmpdir(), "cdktf-out-"));
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^AWS_/.test(name) && name !== "SMART_HOME_ENV"));
    await promisify(execFile)("npx", ["cdktf", "synth", "--output", output], {
      cwd: root,
      env: { ...env, PATH: pathWithoutTerraform(), CHECKPOINT_DISABLE: "1", CI: "1", HOME: mkdtempSync(join(tmpdir(), "home-")) },
      timeout: 120_000,
    });
    for (const id of ["state", "vpc", "connect", "roles", "ecr", "ec2", "iot", "iot-fleet", "api"]) {
      const file = join(output, "stacks", id, "cdk.tf.json");
      expect(existsSync(file)).toBe(true);
      expect(JSON.parse(readFileSync(file, "utf8")).provider.aws[0].region).toBe("eu-west-1");
    }
    expect(JSON.parse(readFileSync(join(output, "stacks", "iot", "cdk.tf.json"), "utf8")).moved.length).toBeGreaterThan(0);
  }, 120_000);
});
