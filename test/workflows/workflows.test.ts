import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { stackOutputs, type StackId } from "../../contracts/stack-outputs";
import { defaultConfig, resources, statements, synthAll } from "../helpers/synth";

/**
 * The rules the issue sets for .github/, held over the parsed workflow files (and the raw text,
 * for what YAML drops: comments after `uses:`). actionlint (.ci/checks/actionlint.sh) checks syntax,
 * expressions and every run block with shellcheck; these tests check our own rules.
 */
const root = join(__dirname, "..", "..");
const workflowDir = join(root, ".github", "workflows");
const actionDir = join(root, ".github", "actions");

type Step = { name?: string; id?: string; uses?: string; run?: string; with?: Record<string, unknown>; env?: Record<string, string>; if?: string };
type Job = {
  "runs-on": string;
  "timeout-minutes"?: number;
  permissions?: Record<string, string>;
  needs?: string | string[];
  if?: string;
  environment?: string | { name: string };
  concurrency?: unknown;
  strategy?: { matrix?: Record<string, unknown> };
  env?: Record<string, string>;
  outputs?: Record<string, string>;
  steps: Step[];
};
type Workflow = { name: string; on: Record<string, any>; permissions?: unknown; concurrency?: { group: string; "cancel-in-progress": boolean }; jobs: Record<string, Job> };

const workflowFiles = readdirSync(workflowDir).filter((file) => /\.ya?ml$/.test(file)).sort();
const raw = (file: string) => readFileSync(join(workflowDir, file), "utf8");
const workflows: Record<string, Workflow> = Object.fromEntries(workflowFiles.map((file) => [file.replace(/\.ya?ml$/, ""), parse(raw(file)) as Workflow]));
const actionFiles = readdirSync(actionDir).map((name) => join(actionDir, name, "action.yml"));
const allJobs = Object.entries(workflows).flatMap(([workflow, { jobs }]) => Object.entries(jobs).map(([id, job]) => ({ where: `${workflow}.${id}`, workflow, id, job })));

const CONFIGURE_AWS = "aws-actions/configure-aws-credentials@";
const usesAws = (job: Job) => job.steps.some((step) => step.uses?.startsWith(CONFIGURE_AWS));

describe("the workflows", () => {
  it("are the six the issue asks for", () => {
    expect(Object.keys(workflows)).toEqual(["agent-release", "cd", "ci", "drift", "plan", "serials"]);
    expect(allJobs).toHaveLength(14);
  });

  it("give every job a timeout and its own permissions, with nothing granted at the top", () => {
    for (const [name, workflow] of Object.entries(workflows)) expect([name, workflow.permissions]).toEqual([name, {}]);
    for (const { where, job } of allJobs) {
      expect([where, typeof job["timeout-minutes"]]).toEqual([where, "number"]);
      expect(job["timeout-minutes"]).toBeLessThanOrEqual(60);
      expect([where, typeof job.permissions]).toEqual([where, "object"]);
    }
  });

  it("grant id-token: write exactly to the jobs that assume an AWS role", () => {
    const withIdToken = allJobs.filter(({ job }) => job.permissions?.["id-token"] === "write").map(({ where }) => where);
    const assuming = allJobs.filter(({ job }) => usesAws(job)).map(({ where }) => where);
    expect(withIdToken).toEqual(["agent-release.release", "cd.deploy", "drift.plan", "plan.plan"]);
    expect(assuming).toEqual(withIdToken);
  });

  it("grant pull-requests: write only to the comment job, and issues: write only to the drift report", () => {
    const granted = (permission: string) => allJobs.filter(({ job }) => job.permissions?.[permission] === "write").map(({ where }) => where);
    expect(granted("pull-requests")).toEqual(["plan.comment"]);
    expect(granted("issues")).toEqual(["drift.report"]);
    expect(granted("contents")).toEqual([]);
    const allowed = new Set(["contents", "id-token", "pull-requests", "issues", "actions"]);
    for (const { where, job } of allJobs) {
      expect([where, Object.keys(job.permissions ?? {}).filter((key) => !allowed.has(key))]).toEqual([where, []]);
    }
  });

  it("assume roles only through OIDC, from repository variables, never with keys", () => {
    const steps = allJobs.flatMap(({ where, job }) => job.steps.filter((step) => step.uses?.startsWith(CONFIGURE_AWS)).map((step) => ({ where, step })));
    expect(steps).toHaveLength(4);
    for (const { where, step } of steps) {
      expect([where, Object.keys(step.with ?? {}).sort()]).toEqual([where, ["aws-region", "role-session-name", "role-to-assume", ...(where === "cd.deploy" ? ["role-duration-seconds"] : [])].sort()]);
      expect(step.with?.["role-to-assume"]).toMatch(/^\$\{\{ vars\.(PLAN|DEPLOY|AGENT_RELEASE)_ROLE_ARN \}\}$/);
      expect(step.with?.["aws-region"]).toBe("${{ vars.AWS_REGION }}");
    }
    for (const file of [...workflowFiles.map((f) => join(workflowDir, f)), ...actionFiles]) {
      expect([file, readFileSync(file, "utf8").match(/aws-access-key-id|aws-secret-access-key|AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN/g)]).toEqual([file, null]);
    }
  });

  it("pin every action to a full commit SHA with its version in a comment", () => {
    const lines = [...workflowFiles.map((f) => join(workflowDir, f)), ...actionFiles].flatMap((file) =>
      readFileSync(file, "utf8")
        .split("\n")
        .filter((line) => /^\s*(- )?uses:/.test(line))
        .map((line) => ({ file, line: line.trim() })),
    );
    const remote = lines.filter(({ line }) => !/uses: \.\//.test(line));
    expect(remote.length).toBeGreaterThanOrEqual(30);
    for (const { file, line } of remote) {
      expect([file, line]).toEqual([file, expect.stringMatching(/^(- )?uses: [\w.-]+\/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$/)]);
    }
    // One version per action across all files.
    const versions = new Map<string, Set<string>>();
    for (const { line } of remote) {
      const [, action, sha] = /uses: ([^@]+)@(\S+)/.exec(line) ?? [];
      versions.set(action as string, (versions.get(action as string) ?? new Set()).add(sha as string));
    }
    expect([...versions].filter(([, shas]) => shas.size > 1)).toEqual([]);
  });

  it("have Dependabot watch every composite action that uses a remote action", () => {
    const dependabot = parse(readFileSync(join(root, ".github", "dependabot.yml"), "utf8"));
    const watched: string[] = dependabot.updates.find((update: { "package-ecosystem": string }) => update["package-ecosystem"] === "github-actions").directories;
    const withRemote = actionFiles.filter((file) => /uses: [\w-]+\//.test(readFileSync(file, "utf8"))).map((file) => `/${file.slice(root.length + 1).replace(/\/action\.yml$/, "")}`);
    expect(withRemote).toEqual(["/.github/actions/setup"]);
    expect(watched).toEqual(["/", ...withRemote]);
  });

  it("run Node 22 wherever they run npm or npx", () => {
    const setup = parse(readFileSync(join(actionDir, "setup", "action.yml"), "utf8"));
    const nodeSteps = setup.runs.steps.filter((step: Step) => step.uses?.startsWith("actions/setup-node@"));
    expect(nodeSteps.map((step: Step) => step.with?.["node-version"])).toEqual(["22"]);
    const npmJobs = allJobs.filter(({ job }) => job.steps.some((step) => /\bnp[mx] /.test(step.run ?? "")));
    expect(npmJobs.length).toBeGreaterThanOrEqual(9);
    for (const { where, job } of npmJobs) {
      const setupStep = job.steps.find((step) => step.uses === "./.github/actions/setup");
      expect([where, setupStep?.with?.node ?? "true"]).toEqual([where, "true"]);
    }
    expect(allJobs.flatMap(({ job }) => job.steps.filter((step) => step.uses?.startsWith("actions/setup-node@")))).toEqual([]);
  });

  it("never put event data or inputs into shell code (they reach run blocks through env)", () => {
    const runs = allJobs.flatMap(({ where, job }) => job.steps.filter((step) => step.run).map((step) => ({ where, run: step.run as string })));
    expect(runs.length).toBeGreaterThanOrEqual(20);
    for (const { where, run } of runs) {
      expect([where, run.match(/\$\{\{[^}]*\b(github\.event|inputs\.|github\.head_ref|steps\.[\w-]+\.outputs|needs\.)[^}]*\}\}/g)]).toEqual([where, null]);
    }
  });

  it("read only stack outputs that contracts/stack-outputs.ts names, from the stack that exports them", () => {
    const reads = [...workflowFiles.map(raw).join("\n").matchAll(/terraform -chdir=cdktf\.out\/stacks\/([\w-]+) output -raw (\w+)/g)];
    expect(reads.length).toBe(4);
    for (const [, stack, output] of reads) {
      expect([stack, output, Object.keys(stackOutputs[stack as StackId] ?? {}).includes(output as string)]).toEqual([stack, output, true]);
    }
  });
});

describe("plan.yml", () => {
  const plan = workflows.plan as Workflow;

  it("plans each changed stack in parallel with the plan role, without the lock, and skips forks", () => {
    expect(Object.keys(plan.on)).toEqual(["pull_request"]);
    const job = plan.jobs.plan as Job;
    expect(job.strategy?.matrix?.stack).toBe("${{ fromJSON(needs.changes.outputs.planned) }}");
    expect(job.if).toContain("needs.changes.outputs.fork == 'false'");
    expect(plan.jobs.changes?.outputs?.fork).toBe("${{ github.event.pull_request.head.repo.full_name != github.repository }}");
    expect(plan.jobs["fork-notice"]?.if).toBe("needs.changes.outputs.fork == 'true'");
    expect(plan.jobs.comment?.if).toContain("needs.changes.outputs.fork == 'false'");
    const run = job.steps.map((step) => step.run ?? "").join("\n");
    expect(run).toContain("terraform plan -input=false -no-color -lock=false -out=tfplan");
    expect(run).toContain('terraform show -json tfplan > "$RESULT/plan.json"');
  });

  it("compares the synthesized pull request with its synthesized base", () => {
    const steps = (plan.jobs.changes as Job).steps;
    expect(steps.find((step) => step.uses === "./.github/actions/synth-base")?.with?.ref).toBe("${{ github.event.pull_request.base.sha }}");
    expect(steps.find((step) => step.id === "changes")?.run).toBe("npx tsx scripts/changed-stacks.ts --head cdktf.out --base cdktf.base --github-output");
    expect((plan.jobs.comment as Job).steps.at(-1)?.run).toContain("npx tsx scripts/plan-comment.ts publish");
  });
});

describe("cd.yml", () => {
  const cd = workflows.cd as Workflow;
  const deploy = cd.jobs.deploy as Job;

  it("deploys one push at a time, never cancelling a deploy half-way", () => {
    expect(cd.on).toEqual({ push: { branches: [defaultConfig.github.deployBranch] }, workflow_dispatch: null });
    expect(cd.concurrency).toEqual({ group: expect.stringMatching(/^cd-/), "cancel-in-progress": false });
  });

  it("builds the controller image for linux/arm64 and pushes it tagged with the commit SHA", () => {
    const qemu = deploy.steps.find((step) => step.uses?.startsWith("docker/setup-qemu-action@"));
    expect(qemu?.with?.platforms).toBe("arm64");
    const build = deploy.steps.find((step) => step.uses?.startsWith("docker/build-push-action@"));
    expect(build?.with).toMatchObject({ platforms: "linux/arm64", file: "controller/Dockerfile", context: ".", push: true });
    expect(build?.with?.tags).toBe("${{ steps.repository.outputs.url }}:${{ github.sha }}");
    const tagged = deploy.steps.find((step) => step.env?.TF_VAR_controller_image_tag);
    expect(tagged?.env?.TF_VAR_controller_image_tag).toBe("${{ github.sha }}");
    // Order: stacks before the image (ecr among them), the image, then the image's stack with the tag, then health.
    const index = (predicate: (step: Step) => boolean) => deploy.steps.findIndex(predicate);
    const before = index((step) => /BEFORE_IMAGE/.test(step.run ?? ""));
    expect(before).toBeGreaterThan(index((step) => step.uses?.startsWith(CONFIGURE_AWS) ?? false));
    expect(index((step) => step === build)).toBeGreaterThan(before);
    expect(index((step) => step === tagged)).toBeGreaterThan(index((step) => step === build));
    expect(index((step) => /\/healthz/.test(step.run ?? ""))).toBe(deploy.steps.length - 1);
  });

  it("applies only the stacks changed-stacks lists, with auto-approve, never state or roles by name", () => {
    const deploys = deploy.steps.filter((step) => /npx cdktf deploy "\$stack"/.test(step.run ?? ""));
    expect(deploys).toHaveLength(2);
    for (const step of deploys) {
      expect(step.run).toMatch(/for stack in \$\(jq -r '\.\[\]' <<<"\$(BEFORE_IMAGE|WITH_IMAGE)"\); do/);
      expect(step.run).toContain('npx cdktf deploy "$stack" --skip-synth --auto-approve --ignore-missing-stack-dependencies');
    }
    expect(deploy.env).toMatchObject({ BEFORE_IMAGE: "${{ needs.changes.outputs.before-image }}", WITH_IMAGE: "${{ needs.changes.outputs.with-image }}" });
    for (const { job } of allJobs) {
      for (const step of job.steps) expect(step.run ?? "").not.toMatch(/^\s*npx cdktf (deploy|destroy)\s+"?(state|roles)\b/m);
    }
  });

  it("stops before applying anything when state or roles changed and no administrator applied them", () => {
    const changes = cd.jobs.changes as Job;
    expect(deploy.needs).toBe("changes");
    // state (local state): the push that changes it fails in the changes job.
    const guard = changes.steps.findIndex((step) => step.name?.startsWith("Stop if this push changes the state stack"));
    expect(guard).toBeGreaterThan(0);
    expect(changes.steps[guard]?.if).toBeUndefined();
    expect(changes.steps[guard]?.run).toContain("--base cdktf.before");
    expect(changes.steps.findIndex((step) => step.id === "changes")).toBeGreaterThan(guard);
    // roles: the deploy job plans it first and fails while it has changes; it runs whenever admin stacks changed.
    expect(deploy.if).toBe("needs.changes.outputs.deploy != '[]' || needs.changes.outputs.admin != '[]'");
    const check = deploy.steps.findIndex((step) => step.name?.startsWith("Stop unless an administrator applied"));
    expect(deploy.steps[check]?.run).toContain("plan -detailed-exitcode -lock=false");
    expect(deploy.steps[check]?.run).toContain('exit "$failed"');
    expect(check).toBeGreaterThan(0);
    expect(check).toBeLessThan(deploy.steps.findIndex((step) => /npx cdktf deploy "\$stack"/.test(step.run ?? "")));
  });
});

describe("drift.yml", () => {
  it("plans every stack with remote state nightly with -detailed-exitcode and keeps one issue", () => {
    const drift = workflows.drift as Workflow;
    expect(drift.on.schedule).toEqual([{ cron: expect.stringMatching(/^\d+ \d+ \* \* \*$/) }]);
    expect((drift.jobs.stacks as Job).steps.find((step) => step.id === "stacks")?.run).toContain("--all");
    expect((drift.jobs.plan as Job).steps.map((step) => step.run ?? "").join("\n")).toContain("terraform plan -detailed-exitcode -input=false -no-color -lock=false");
    expect((drift.jobs.report as Job).steps.at(-1)?.run).toContain("scripts/plan-comment/drift-issue.ts");
  });
});

describe("agent-release.yml", () => {
  const release = workflows["agent-release"] as Workflow;
  const job = release.jobs.release as Job;
  const index = (predicate: (step: Step) => boolean) => job.steps.findIndex(predicate);

  it("runs on agent-v* tags only, one release at a time, never cancelled half-way", () => {
    expect(release.on).toEqual({ push: { tags: ["agent-v*"] } });
    expect(release.concurrency).toEqual({ group: expect.stringMatching(/^agent-release-/), "cancel-in-progress": false });
    expect(job.permissions).toEqual({ contents: "read", "id-token": "write" });
  });

  it("checks the tag against the agent's version, builds, assumes the release role, then releases", () => {
    const check = index((step) => step.name === "Stop unless the tag names the agent's version");
    const build = index((step) => step.run === "npm run build:agent");
    const credentials = index((step) => step.uses?.startsWith(CONFIGURE_AWS) ?? false);
    const publish = index((step) => /npm run --silent release:agent/.test(step.run ?? ""));
    expect([check, build, credentials, publish].every((at) => at > 0)).toBe(true);
    expect(check).toBeLessThan(build);
    expect(build).toBeLessThan(credentials);
    expect(credentials).toBe(publish - 1);
    expect(publish).toBe(job.steps.length - 1);
    expect(job.steps[check]?.run).toContain("releaseName().version");
    expect(job.steps[publish]?.run).toBe('npm run --silent release:agent -- --version "$AGENT_VERSION" --target "$TARGET" --attempt "${GITHUB_RUN_ID}-${GITHUB_RUN_ATTEMPT}"');
  });

  it("hands the signing key to the release step alone, from a secret, through its environment", () => {
    const withKey = allJobs.flatMap(({ where, job: each }) => each.steps.filter((step) => JSON.stringify(step).includes("AGENT_RELEASE_SIGNING_KEY")).map((step) => ({ where, step })));
    expect(withKey).toHaveLength(1);
    expect(withKey[0]?.where).toBe("agent-release.release");
    expect(withKey[0]?.step.env?.AGENT_RELEASE_SIGNING_KEY).toBe("${{ secrets.AGENT_RELEASE_SIGNING_KEY }}");
    expect(withKey[0]?.step.run).not.toContain("AGENT_RELEASE_SIGNING_KEY");
  });
});

describe("serials.yml", () => {
  it("registers a list of serials by hand with the API key secret", () => {
    const serials = workflows.serials as Workflow;
    expect(Object.keys(serials.on)).toEqual(["workflow_dispatch"]);
    expect(serials.on.workflow_dispatch.inputs.serials).toMatchObject({ required: true, type: "string" });
    const step = (serials.jobs.register as Job).steps.at(-1) as Step;
    expect(step.env).toMatchObject({ SERIAL_API_KEY: "${{ secrets.SERIAL_API_KEY }}", SERIAL_API_URL: "${{ vars.SERIAL_API_URL }}" });
    expect(step.run).toContain('npm run --silent serials -- add "${serials[@]}"');
  });
});

describe("the OIDC subjects the roles stack trusts are exactly the ones the workflows present", () => {
  const repository = defaultConfig.github.repository;
  const defaultBranch = defaultConfig.github.deployBranch;

  /**
   * The `sub` claim of a job's token (docs.github.com, "OpenID Connect reference": a job with an
   * environment presents `environment:<name>` instead of the ref; pull_request presents
   * `pull_request`; schedule runs on the default branch, taken here to be the deploy branch).
   */
  function subjects(workflow: Workflow, job: Job): string[] {
    if (job.environment) return [`repo:${repository}:environment:${typeof job.environment === "string" ? job.environment : job.environment.name}`];
    return Object.entries(workflow.on).flatMap(([event, filter]) => {
      if (event === "pull_request") return [`repo:${repository}:pull_request`];
      if (event === "push") {
        return [
          ...((filter.branches ?? []) as string[]).map((branch) => `repo:${repository}:ref:refs/heads/${branch}`),
          ...((filter.tags ?? []) as string[]).map((tag) => `repo:${repository}:ref:refs/tags/${tag}`),
        ];
      }
      if (event === "schedule" || event === "workflow_dispatch") return [`repo:${repository}:ref:refs/heads/${defaultBranch}`];
      throw new Error(`no subject rule for ${event}`);
    });
  }

  it("for the plan, deploy and agent-release roles", () => {
    const roles = synthAll().roles;
    // Repository variables hold the roles stack's outputs: PLAN_ROLE_ARN = github_plan_role_arn …
    const variables = { PLAN_ROLE_ARN: "github_plan_role_arn", DEPLOY_ROLE_ARN: "github_deploy_role_arn", AGENT_RELEASE_ROLE_ARN: "github_agent_release_role_arn" } as const;
    const presented = new Map<string, Set<string>>();
    for (const { workflow, job } of allJobs.filter(({ job }) => usesAws(job))) {
      const variable = /vars\.(\w+)/.exec(String(job.steps.find((step) => step.uses?.startsWith(CONFIGURE_AWS))?.with?.["role-to-assume"]))?.[1] as keyof typeof variables;
      const set = presented.get(variable) ?? new Set<string>();
      for (const subject of subjects(workflows[workflow] as Workflow, job)) set.add(subject);
      presented.set(variable, set);
    }
    expect([...presented.keys()].sort()).toEqual(["AGENT_RELEASE_ROLE_ARN", "DEPLOY_ROLE_ARN", "PLAN_ROLE_ARN"]);
    for (const [variable, output] of Object.entries(variables)) {
      const roleId = /^\$\{aws_iam_role\.([\w-]+)\.arn\}$/.exec(roles.output?.[output]?.value ?? "")?.[1] as string;
      const role = resources(roles, "aws_iam_role")[roleId];
      const [trust] = statements(JSON.parse(role.assume_role_policy));
      // Exact subjects are StringEquals; a tag pattern (agent-v*) is StringLike, matched as GitHub's `tags:` filter matches.
      const sub = "token.actions.githubusercontent.com:sub";
      const trusted = [trust?.Condition.StringEquals[sub] ?? trust?.Condition.StringLike[sub]].flat().sort();
      expect([variable, trusted]).toEqual([variable, [...(presented.get(variable) ?? [])].sort()]);
    }
  });
});
