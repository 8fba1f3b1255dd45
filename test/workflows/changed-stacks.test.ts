import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { LambdaFunction } from "@cdktf/provider-aws/lib/lambda-function";
import { Vpc } from "@cdktf/provider-aws/lib/vpc";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, AssetType, TerraformAsset, TerraformStack } from "cdktf";
import { ADMIN_ONLY_STACKS, compareTrees, CONTROLLER_IMAGE_INPUTS, controllerImageChanged, IMAGE_STACK, main } from "../../scripts/changed-stacks";
import { stackIds } from "../../contracts/stack-outputs";
import { bundleFunction } from "../../modules/function-bundle";
import { buildStacks } from "../../stacks/app";
import { testConfig } from "../helpers/synth";

const work = mkdtempSync(join(tmpdir(), "changed-stacks-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** `cdktf synth --output <dir>` in process: the same App.synth() main.ts runs, into a temp dir. */
function synthApp(name: string, config = testConfig()): string {
  const outdir = join(work, name);
  const app = new App({ outdir });
  buildStacks(app, config);
  app.synth();
  return outdir;
}

describe("changed stacks of the whole app (two synthesized trees)", () => {
  let base: string;
  beforeAll(() => {
    base = synthApp("base");
  }, 60_000);

  it("finds nothing when the same code synthesizes again", () => {
    const again = synthApp("again");
    const changes = compareTrees(again, base);
    expect(changes).toEqual({
      changed: [],
      planned: [],
      unplannable: [],
      deploy: [],
      deployBeforeImage: [],
      deployWithImage: [],
      admin: [],
      removed: [],
      controllerImage: false,
    });
  }, 60_000);

  it("finds the one stack a config change touches, and holds back an admin-only stack", () => {
    const head = synthApp("repository", testConfig({ github: { repository: "example-org/renamed" } }));
    const changes = compareTrees(head, base);
    expect(changes.changed).toEqual(["roles"]);
    expect(changes.planned).toEqual(["roles"]);
    expect(changes.admin).toEqual(["roles"]);
    expect(changes.deploy).toEqual([]);
  }, 60_000);

  it("plans, with --all, every stack with remote state, and knows which has local state", () => {
    const changes = compareTrees(base, undefined, true);
    expect(changes.changed).toEqual(stackIds);
    expect(changes.unplannable).toEqual(["state"]);
    expect(changes.planned).toEqual(stackIds.filter((id) => id !== "state"));
    expect(changes.admin).toEqual(ADMIN_ONLY_STACKS);
    expect(changes.deploy).toEqual(stackIds.filter((id) => !ADMIN_ONLY_STACKS.includes(id)));
    // The image is built after ecr exists and before ec2 takes its tag.
    expect(changes.deployBeforeImage).toEqual(["vpc", "connect", "ecr"]);
    expect(changes.deployWithImage).toEqual(["ec2", "iot", "iot-fleet", "api"]);
  });
});

describe("changed stacks on a Lambda code change", () => {
  /** Two stacks in the shape of the app's: a VPC, and a function bundled by the repo's esbuild bundler. */
  function synthWithHandler(name: string, handlerSource: string): string {
    const source = join(work, `${name}-src`, "handler-fn");
    mkdirSync(source, { recursive: true });
    writeFileSync(join(source, "index.ts"), handlerSource);
    const bundle = bundleFunction(join(source, "index.ts"), join(work, `${name}-bundles`));
    const outdir = join(work, name);
    const app = new App({ outdir });
    const vpcStack = new TerraformStack(app, "vpc");
    new AwsProvider(vpcStack, "aws", { region: "eu-west-1" });
    new Vpc(vpcStack, "vpc", { cidrBlock: "10.0.0.0/16" });
    const apiStack = new TerraformStack(app, "api");
    new AwsProvider(apiStack, "aws", { region: "eu-west-1" });
    const code = new TerraformAsset(apiStack, "code", { path: bundle.zipPath, type: AssetType.FILE });
    new LambdaFunction(apiStack, "function", {
      functionName: "handler-fn",
      role: "arn:aws:iam::123456789012:role/handler-fn",
      runtime: "nodejs22.x",
      handler: "index.handler",
      filename: code.path,
      sourceCodeHash: bundle.sha256,
    });
    app.synth();
    return outdir;
  }

  it("marks the function's stack changed and leaves the other alone", () => {
    const before = synthWithHandler("lambda-a", 'export const handler = async () => ({ statusCode: 200, body: "a" });\n');
    const after = synthWithHandler("lambda-b", 'export const handler = async () => ({ statusCode: 200, body: "b" });\n');
    const same = synthWithHandler("lambda-c", 'export const handler = async () => ({ statusCode: 200, body: "a" });\n');
    expect(compareTrees(after, before).changed).toEqual(["api"]);
    expect(compareTrees(after, before).deploy).toEqual(["api"]);
    expect(compareTrees(after, before).deployBeforeImage).toEqual(["api"]);
    expect(compareTrees(after, before).deployWithImage).toEqual([]);
    expect(compareTrees(same, before).changed).toEqual([]);
    // A stack the head no longer has is reported, never silently dropped.
    rmSync(join(same, "stacks", "vpc"), { recursive: true });
    expect(compareTrees(same, before).removed).toEqual(["vpc"]);
  }, 60_000);
});

describe("the controller image and the command line", () => {
  it("adds the image stack to the deploy when the controller image's inputs changed", () => {
    const tree = join(work, "base");
    const changes = compareTrees(tree, tree, true);
    expect(changes.changed).toEqual([]);
    expect(changes.deploy).toEqual([IMAGE_STACK]);
    expect(changes.deployWithImage).toEqual([IMAGE_STACK]);
  });

  it("tells from git whether an image input changed between two commits", () => {
    const repo = join(work, "git");
    mkdirSync(join(repo, "controller"), { recursive: true });
    const git = (...args: string[]) => execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", ...args], { cwd: repo, encoding: "utf8" }).trim();
    git("init", "-q");
    writeFileSync(join(repo, "controller", "app.ts"), "1");
    writeFileSync(join(repo, "notes.md"), "1");
    git("add", "-A");
    git("commit", "-qm", "one");
    const one = git("rev-parse", "HEAD");
    writeFileSync(join(repo, "notes.md"), "2");
    git("commit", "-qam", "docs only");
    const two = git("rev-parse", "HEAD");
    writeFileSync(join(repo, "controller", "app.ts"), "2");
    git("commit", "-qam", "controller");
    expect(CONTROLLER_IMAGE_INPUTS).toContain("controller/");
    expect(controllerImageChanged(one, two, repo)).toBe(false);
    expect(controllerImageChanged(two, "HEAD", repo)).toBe(true);
    expect(() => controllerImageChanged("deadbeef", "HEAD", repo)).toThrow("is deadbeef fetched?");
  });

  it("writes every field to GITHUB_OUTPUT as compact JSON, and refuses bad usage", () => {
    const output = join(work, "github-output");
    writeFileSync(output, "");
    const log = jest.spyOn(console, "log").mockImplementation(() => undefined);
    const errors = jest.spyOn(console, "error").mockImplementation(() => undefined);
    try {
      expect(main(["--head", join(work, "base"), "--all", "--github-output"], { GITHUB_OUTPUT: output })).toBe(0);
      const lines = readFileSync(output, "utf8").trim().split("\n");
      expect(lines).toHaveLength(9);
      expect(lines).toContain('unplannable=["state"]');
      expect(lines).toContain('admin=["state","roles"]');
      expect(main(["--head", join(work, "base")], {})).toBe(2);
      expect(main(["--head", join(work, "base"), "--all", "--base", "x"], {})).toBe(2);
      expect(main(["--head", join(work, "base"), "--all", "--git-base", "main; rm -rf /"], {})).toBe(2);
      expect(main(["--head", join(work, "base"), "--all", "--verbose"], {})).toBe(2);
      expect(errors).toHaveBeenCalledTimes(4);
    } finally {
      log.mockRestore();
      errors.mockRestore();
    }
  });
});
