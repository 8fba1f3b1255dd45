import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "cdktf";
import { parse } from "yaml";
import { terraformProviders } from "../../scripts/lib/terraform-providers";
import { releaseName } from "../../pi-agent/build";
import { buildStacks } from "../../stacks/app";
import { testConfig } from "../helpers/synth";

/**
 * The shell in the workflows, run for real with bash as GitHub runs it (`bash --noprofile --norc
 * -eo pipefail`), in a temp dir: the cd guard over real synthesized trees, and the synth-base
 * action's checkout dance in a real git repository.
 */
const root = join(__dirname, "..", "..");
const work = mkdtempSync(join(tmpdir(), "workflow-scripts-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function runBlock(script: string, cwd: string, env: Record<string, string>) {
  return spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", script], { cwd, env: { ...process.env, ...env }, encoding: "utf8", timeout: 60_000 });
}

describe("cd.yml's guard step", () => {
  const cd = parse(readFileSync(join(root, ".github", "workflows", "cd.yml"), "utf8"));
  const guard = cd.jobs.changes.steps.find((step: { name?: string }) => step.name?.startsWith("Stop if this push changes the state stack")).run as string;

  /** A workspace like the job's: the repo's scripts and node_modules, the head tree, and this push's base tree. */
  function workspace(name: string, head: Partial<Parameters<typeof testConfig>[0]>): string {
    const dir = join(work, name);
    mkdirSync(dir);
    for (const linked of ["scripts", "contracts", "node_modules", "package.json", "tsconfig.json"]) symlinkSync(join(root, linked), join(dir, linked));
    for (const [tree, overrides] of [["cdktf.before", {}], ["cdktf.out", head]] as const) {
      const app = new App({ outdir: join(dir, tree) });
      buildStacks(app, testConfig(overrides));
      app.synth();
    }
    return dir;
  }

  it("passes a push that changes no administrator stack", () => {
    const result = runBlock(guard, workspace("same", {}), { BEFORE: "0123abc" });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("no administrator stack with local state changed in this push, no stack removed");
    expect(result.stdout).not.toContain("::notice::");
  }, 60_000);

  it("passes a roles change on to the deploy job's plan check, saying so", () => {
    const result = runBlock(guard, workspace("roles", { github: { repository: "example-org/renamed" } }), { BEFORE: "0123abc" });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("::notice::this push changes roles: the deploy job plans it and stops unless an administrator has applied it");
  }, 60_000);

  it("fails, saying which stack and what to do, when the push changes the state stack", () => {
    const result = runBlock(guard, workspace("state", { stateBucket: "smarthome-dev-state-moved" }), { BEFORE: "0123abc" });
    expect(result.status).toBe(1);
    expect(result.stdout).toContain("::error title=Administrator stacks changed::this push changes: state.");
    expect(result.stdout).toContain("npx cdktf deploy state");
  }, 60_000);

  it("fails closed when a push has no parent to compare with; a run by hand has none to check", () => {
    const pushed = runBlock(guard, work, { BEFORE: "", GITHUB_EVENT_NAME: "push" });
    expect(pushed.status).toBe(1);
    expect(pushed.stdout).toContain("cannot be ruled out");
    const byHand = runBlock(guard, work, { BEFORE: "", GITHUB_EVENT_NAME: "workflow_dispatch" });
    expect(byHand.status).toBe(0);
    expect(byHand.stdout).toContain("the deploy job checks roles with a plan");
  });
});

describe("the synth-base action", () => {
  const action = parse(readFileSync(join(root, ".github", "actions", "synth-base", "action.yml"), "utf8"));
  const script = action.runs.steps[0].run as string;

  /**
   * A real git repository with two commits; `npx` is a stand-in for `cdktf synth` that records
   * which commit it saw (or fails), so the test shows the checkout is restored either way.
   */
  function repository(synthFails: boolean) {
    const dir = mkdtempSync(join(work, "repo-"));
    const git = (...args: string[]) => spawnSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", ...args], { cwd: dir, encoding: "utf8" }).stdout.trim();
    git("init", "-q");
    writeFileSync(join(dir, "package-lock.json"), "{}");
    writeFileSync(join(dir, "main.ts"), "base");
    git("add", "-A");
    git("commit", "-qm", "base");
    const base = git("rev-parse", "HEAD");
    writeFileSync(join(dir, "main.ts"), "head");
    git("commit", "-qam", "head");
    const head = git("rev-parse", "HEAD");
    const bin = join(dir, ".bin");
    mkdirSync(bin);
    writeFileSync(join(bin, "npx"), synthFails ? "#!/bin/sh\necho synth failed >&2\nexit 1\n" : '#!/bin/sh\nmkdir -p "$4" && cat main.ts > "$4/seen"\n');
    chmodSync(join(bin, "npx"), 0o755);
    writeFileSync(join(dir, ".git", "info", "exclude"), ".bin\nout\n");
    return { dir, base, head, git, PATH: `${bin}:${process.env.PATH}` };
  }

  it("synthesizes the other commit into its folder and returns to the head commit", () => {
    const repo = repository(false);
    const result = runBlock(script, repo.dir, { REF: repo.base, OUTPUT: "out", PATH: repo.PATH });
    expect(result.status).toBe(0);
    expect(readFileSync(join(repo.dir, "out", "seen"), "utf8")).toBe("base");
    expect(repo.git("rev-parse", "HEAD")).toBe(repo.head);
    expect(readFileSync(join(repo.dir, "main.ts"), "utf8")).toBe("head");
  });

  it("returns to the head commit when the synth fails, and fails", () => {
    const repo = repository(true);
    const result = runBlock(script, repo.dir, { REF: repo.base, OUTPUT: "out", PATH: repo.PATH });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("synth failed");
    expect(repo.git("rev-parse", "HEAD")).toBe(repo.head);
  });

  it("refuses a commit the checkout does not have", () => {
    const repo = repository(false);
    const result = runBlock(script, repo.dir, { REF: "0".repeat(40), OUTPUT: "out", PATH: repo.PATH });
    expect(result.status).toBe(1);
    expect(result.stdout).toContain("is not in this checkout");
  });
});

describe("the running-image-tag action", () => {
  const action = parse(readFileSync(join(root, ".github", "actions", "running-image-tag", "action.yml"), "utf8"));
  const script = action.runs.steps[0].run as string;

  /** A stack with real local state, applied by Terraform with the null provider from the offline mirror. */
  function appliedStack(name: string, resources: object) {
    const providers = terraformProviders();
    const dir = join(work, name);
    mkdirSync(dir);
    writeFileSync(
      join(dir, "cdk.tf.json"),
      JSON.stringify({
        terraform: { required_providers: { null: { source: "hashicorp/null", version: providers.versions.null } }, backend: { local: { path: "terraform.tfstate" } } },
        resource: resources,
      }),
    );
    const env = { TF_CLI_CONFIG_FILE: providers.cliConfigFile, CHECKPOINT_DISABLE: "1" };
    for (const args of [["init", "-input=false", "-no-color"], ["apply", "-auto-approve", "-input=false", "-no-color"]]) {
      const result = spawnSync("terraform", args, { cwd: dir, env: { ...process.env, ...env }, encoding: "utf8", timeout: 120_000 });
      if (result.status !== 0) throw new Error(`terraform ${args[0]}: ${result.stderr}`);
    }
    const githubEnv = join(dir, "github-env");
    writeFileSync(githubEnv, "");
    return { dir, env: { ...env, STACK_DIR: dir, GITHUB_ENV: githubEnv }, githubEnv };
  }

  it("exports the tag the redeploy resource recorded, and leaves other stacks alone", () => {
    const ec2 = appliedStack("ec2-state", {
      null_resource: { redeploy: { triggers: { image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/smarthome-dev/controller:0123abc", instance_id: "i-0abc" } } },
    });
    const result = runBlock(script, work, ec2.env);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(readFileSync(ec2.githubEnv, "utf8")).toBe("TF_VAR_controller_image_tag=0123abc\n");

    const other = appliedStack("other-state", { terraform_data: { settings: { input: "x" } } });
    const untouched = runBlock(script, work, other.env);
    expect(untouched.status).toBe(0);
    expect(untouched.stdout).toContain("no controller redeploy recorded");
    expect(readFileSync(other.githubEnv, "utf8")).toBe("");
  }, 120_000);
});

describe("the composite actions' shell", () => {
  it("passes shellcheck (actionlint checks only the workflows' run blocks)", () => {
    const actions = ["setup", "synth-base", "running-image-tag"].map((name) => parse(readFileSync(join(root, ".github", "actions", name, "action.yml"), "utf8")));
    const scripts = actions.flatMap((action) => action.runs.steps.filter((step: { run?: string }) => step.run).map((step: { run: string }) => step.run));
    expect(scripts).toHaveLength(3);
    for (const script of scripts) {
      const file = join(work, "action-script.sh");
      writeFileSync(file, `#!/usr/bin/env bash\n${script.replace(/\$\{\{[^}]*\}\}/g, "x")}`);
      const result = spawnSync("shellcheck", ["--severity=style", file], { encoding: "utf8" });
      expect([result.error?.message, result.stdout]).toEqual([undefined, ""]);
    }
  });
});

describe("agent-release.yml's version check", () => {
  const release = parse(readFileSync(join(root, ".github", "workflows", "agent-release.yml"), "utf8"));
  const check = release.jobs.release.steps.find((step: { name?: string }) => step.name === "Stop unless the tag names the agent's version").run as string;
  const { version } = releaseName();

  it("passes a tag that names the agent's version and hands the version to the next steps", () => {
    const githubEnv = join(work, "agent-release.env");
    const result = runBlock(check, root, { GITHUB_REF_NAME: `agent-v${version}`, GITHUB_ENV: githubEnv });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`releasing the agent ${version}`);
    expect(readFileSync(githubEnv, "utf8")).toBe(`AGENT_VERSION=${version}\n`);
  }, 60_000);

  it("fails before building anything when the tag names another version", () => {
    const githubEnv = join(work, "agent-release-other.env");
    const result = runBlock(check, root, { GITHUB_REF_NAME: "agent-v99.0.0", GITHUB_ENV: githubEnv });
    expect(result.status).toBe(1);
    expect(result.stdout).toContain(`::error title=Tag and agent version differ::tag agent-v99.0.0 releases 99.0.0, but the agent in this commit is ${version}`);
    expect(() => readFileSync(githubEnv, "utf8")).toThrow(/ENOENT/);
  }, 60_000);
});
