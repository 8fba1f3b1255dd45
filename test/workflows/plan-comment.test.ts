import { execFile } from "node:child_process";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  COMMENT_LIMIT,
  main,
  marker,
  markedStack,
  protectedAddresses,
  renderFailure,
  renderPlan,
  summarize,
  type PlanJson,
} from "../../scripts/plan-comment";
import { terraformProviders } from "../../scripts/lib/terraform-providers";

const run = promisify(execFile);

/**
 * Real plans: Terraform 1.11 with the hashicorp/null provider from the offline mirror, a local
 * backend in a temp dir. One config is planned three times (create, then change, then a change
 * prevent_destroy refuses: it would replace a protected resource); eight terraform calls in all.
 */
describe("plan comments from real terraform show -json", () => {
  const dir = mkdtempSync(join(tmpdir(), "plan-comment-"));
  const MANY = 600; // null resources in the first plan: its text is far over the comment limit
  let env: NodeJS.ProcessEnv;
  const terraform = (...args: string[]) => run("terraform", args, { cwd: dir, env, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 });

  /** A config in the shape cdktf writes (cdk.tf.json): the script reads prevent_destroy from it. */
  const config = (version: string, options: { withGone: boolean; replaceGuarded?: boolean }) => {
    const providers = terraformProviders();
    return {
      terraform: {
        required_providers: { null: { source: "hashicorp/null", version: providers.versions.null } },
        backend: { local: { path: "terraform.tfstate" } },
      },
      resource: {
        null_resource: {
          many: { count: MANY, triggers: { index: "${count.index}", padding: "p".repeat(120) } },
          keep: { triggers: { v: "1" } },
          swap: { triggers: { version } },
          ...(options.withGone ? { gone: { triggers: { v: "1" } } } : {}),
          ...(options.withGone ? {} : { added: { triggers: { v: "1" } } }),
        },
        terraform_data: {
          settings: { input: version },
          guarded: { input: version, triggers_replace: options.replaceGuarded ? "new" : "old", lifecycle: { prevent_destroy: true } },
        },
      },
      output: { version: { value: version } },
    };
  };
  const writeConfig = (json: object) => writeFileSync(join(dir, "main.tf.json"), JSON.stringify(json, null, 2));

  let createPlan: PlanJson;
  let createText: string;
  let changePlan: PlanJson;
  let changeText: string;
  let failure: string;
  const changedConfig = config("2", { withGone: false });

  beforeAll(async () => {
    env = { ...process.env, TF_CLI_CONFIG_FILE: terraformProviders().cliConfigFile, CHECKPOINT_DISABLE: "1", TF_IN_AUTOMATION: "1" };
    writeConfig(config("1", { withGone: true }));
    await terraform("init", "-input=false", "-no-color");
    await terraform("plan", "-input=false", "-no-color", "-out=create.tfplan");
    createPlan = JSON.parse((await terraform("show", "-json", "create.tfplan")).stdout);
    createText = (await terraform("show", "-no-color", "create.tfplan")).stdout;
    await terraform("apply", "-input=false", "-no-color", "-parallelism=50", "create.tfplan");

    writeConfig(changedConfig);
    await terraform("plan", "-input=false", "-no-color", "-lock=false", "-out=change.tfplan");
    changePlan = JSON.parse((await terraform("show", "-json", "change.tfplan")).stdout);
    changeText = (await terraform("show", "-no-color", "change.tfplan")).stdout;

    writeConfig(config("2", { withGone: false, replaceGuarded: true }));
    failure = await terraform("plan", "-input=false", "-no-color", "-lock=false").then(
      () => "",
      (error: { stderr: string }) => error.stderr,
    );
  }, 240_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("counts creates, and cuts a plan over the limit at a line with a note saying where", () => {
    const summary = summarize(createPlan);
    expect(summary.addresses.create).toHaveLength(MANY + 5);
    expect(summary.addresses.update).toHaveLength(0);
    expect(createText.length).toBeGreaterThan(COMMENT_LIMIT);

    const body = renderPlan({ stack: "vpc", runUrl: "https://github.example/run/1", commit: "0123456789abcdef" }, createPlan, createText);
    expect(body.length).toBeLessThanOrEqual(COMMENT_LIMIT);
    expect(body.startsWith(`${marker("vpc")}\n### \`vpc\` plan at 0123456:`)).toBe(true);
    expect(body).toContain(`**${MANY + 5}** to add, **0** to change, **0** to replace, **0** to destroy`);
    // The address list stops at 100 and says how many more there are.
    expect(body).toContain(`- … and ${MANY + 5 - 100} more (see the full plan)`);
    const note = /_Cut after line (\d+) of (\d+) to fit GitHub's 65,536-character comment limit; the whole text is in the `plan-vpc` artifact of \[this run\]\(https:\/\/github.example\/run\/1\)\._/.exec(body);
    expect(note).not.toBeNull();
    const [kept, total] = [Number(note?.[1]), Number(note?.[2])];
    expect(total).toBe(createText.split("\n").length);
    expect(kept).toBeLessThan(total);
    // What is kept is the plan's first lines, verbatim, inside a collapsed block.
    expect(body).toContain(`<details><summary>Full plan</summary>\n\n\`\`\`text\n${createText.split("\n").slice(0, kept).join("\n")}\n\`\`\``);
    expect(body).not.toContain("[!CAUTION]");
  });

  it("lists update, replace and destroy by address with a loud warning, and flags prevent_destroy resources", () => {
    const summary = summarize(changePlan);
    expect(summary.addresses).toEqual({
      create: ["null_resource.added"],
      update: ["terraform_data.guarded", "terraform_data.settings"],
      replace: ["null_resource.swap"],
      delete: ["null_resource.gone"],
    });
    expect(summary.outputs).toEqual(["version"]);

    const guarded = protectedAddresses(changedConfig as never);
    expect([...guarded]).toEqual(["terraform_data.guarded"]);
    const body = renderPlan({ stack: "ecr" }, changePlan, changeText, guarded);
    expect(body).toContain("**1** to add, **2** to change, **1** to replace, **1** to destroy");
    expect(body).toContain("> [!CAUTION]\n> **This plan destroys 2 resources** (1 destroyed, 1 replaced)");
    expect(body).toContain("> [!WARNING]\n> **Protected resources change** (`prevent_destroy`): `terraform_data.guarded` (change)");
    expect(body).toContain("**Replace** (1)\n\n- `null_resource.swap`\n");
    expect(body).toContain("**Destroy** (1)\n\n- `null_resource.gone`\n");
    expect(body).toContain("**Change** (2)\n\n- `terraform_data.guarded` 🔒\n- `terraform_data.settings`\n");
    expect(body).toContain("Outputs that change: `version`");
    // Small enough to carry the whole plan, uncut.
    expect(body).toContain(changeText.trimEnd());
    expect(body).not.toContain("_Cut after line");
  });

  it("reports a failed plan with its error, and a prevent_destroy refusal loudly", () => {
    expect(failure).toContain("Instance cannot be destroyed");
    const body = renderFailure({ stack: "ecr" }, failure);
    expect(markedStack(body)).toBe("ecr");
    expect(body).toContain("**the plan failed**");
    expect(body).toContain("> [!CAUTION]\n> **This change would destroy a protected resource**");
    expect(body).toContain("<details open><summary>Error</summary>");
    expect(body).toContain("terraform_data.guarded");

    const plain = renderFailure({ stack: "vpc", limit: 2_000 }, `Error: AccessDenied\n${"x".repeat(100)}\n`.repeat(50));
    expect(plain).not.toContain("[!CAUTION]");
    expect(plain.length).toBeLessThanOrEqual(2_000);
    expect(plain).toContain("_Cut after line");
  });

  it("fences text that itself holds backticks with a longer fence", () => {
    const body = renderFailure({ stack: "iot" }, "Error: bad value ```x```\n");
    expect(body).toContain("````text\nError: bad value ```x```\n````");
  });
});

/**
 * Publishing against a stand-in for GitHub's REST API: a small HTTP server that keeps comments
 * in memory (no local GitHub exists; this is a mock of its issues-comments endpoints only).
 */
describe("plan-comment publish: one comment per stack, updated in place", () => {
  type Comment = { id: number; body: string; user: { login: string; type: string } };
  let comments: Comment[];
  let requests: string[];
  let apiUrl: string;
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    let raw = "";
    request.on("data", (chunk) => (raw += chunk));
    request.on("end", (): void => {
      requests.push(`${request.method} ${request.url}`);
      if (request.headers.authorization !== "Bearer test-token") {
        response.writeHead(401).end("{}");
        return;
      }
      const send = (status: number, body: unknown): void => void response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
      const url = new URL(request.url ?? "/", "http://localhost");
      if (request.method === "GET" && url.pathname === "/repos/o/r/issues/7/comments") {
        const page = Number(url.searchParams.get("page"));
        return send(200, comments.slice((page - 1) * 100, page * 100));
      }
      if (request.method === "POST" && url.pathname === "/repos/o/r/issues/7/comments") {
        const comment = { id: comments.length + 1000, body: JSON.parse(raw).body, user: { login: "github-actions[bot]", type: "Bot" } };
        comments.push(comment);
        return send(201, comment);
      }
      const patch = /^\/repos\/o\/r\/issues\/comments\/(\d+)$/.exec(url.pathname);
      const target = patch && comments.find((comment) => comment.id === Number(patch[1]));
      if (request.method === "PATCH" && target) {
        target.body = JSON.parse(raw).body;
        return send(200, target);
      }
      send(404, { message: "Not Found" });
    });
  });
  const folder = mkdtempSync(join(tmpdir(), "plan-publish-"));
  const plan: PlanJson = { format_version: "1.2", resource_changes: [{ address: "aws_vpc.main", change: { actions: ["update"] } }] };

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    mkdirSync(join(folder, "plans", "plan-vpc"), { recursive: true });
    writeFileSync(join(folder, "plans", "plan-vpc", "plan.json"), JSON.stringify(plan));
    writeFileSync(join(folder, "plans", "plan-vpc", "plan.txt"), "  # aws_vpc.main will be updated in-place\n");
    mkdirSync(join(folder, "plans", "plan-iot"), { recursive: true });
    writeFileSync(join(folder, "plans", "plan-iot", "error.txt"), "Error: reading state: AccessDenied\n");
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(folder, { recursive: true, force: true });
  });
  beforeEach(() => {
    requests = [];
    comments = [
      // Someone pasted the vpc marker into their own comment: it must be left alone.
      { id: 1, body: `${marker("vpc")}\nmine`, user: { login: "someone", type: "User" } },
      { id: 2, body: `${marker("api")}\nold plan`, user: { login: "github-actions[bot]", type: "Bot" } },
    ];
  });

  const publish = (extra: string[] = []) =>
    main(
      ["publish", "--repo", "o/r", "--pr", "7", "--plans", join(folder, "plans"), "--synth", join(folder, "no-synth"), "--expected", '["vpc","iot","ec2"]', "--unplannable", '["state"]', ...extra],
      { GITHUB_TOKEN: "test-token", GITHUB_API_URL: apiUrl },
    );

  it("creates one comment per stack, then updates the same comments on the next push", async () => {
    expect(await publish()).toBe(0);
    const byStack = (): Record<string, Comment> =>
      Object.fromEntries(comments.filter((c) => c.user.login === "github-actions[bot]").map((c) => [markedStack(c.body), c]));
    let bot = byStack();
    expect(Object.keys(bot).sort()).toEqual(["api", "ec2", "iot", "state", "vpc"]);
    expect(comments).toHaveLength(6); // 2 before + vpc, iot, ec2, state
    expect(comments[0]?.body).toBe(`${marker("vpc")}\nmine`);
    expect(bot.vpc?.body).toContain("**0** to add, **1** to change");
    expect(bot.iot?.body).toContain("**the plan failed**");
    expect(bot.iot?.body).toContain("AccessDenied");
    expect(bot.ec2?.body).toContain("The plan job of ec2 left no result");
    expect(bot.state?.body).toContain("changed, not planned here");
    expect(bot.api?.body).toContain("no changes in this pull request any more");

    const ids = Object.fromEntries(Object.entries(bot).map(([stack, comment]) => [stack, comment.id]));
    requests = [];
    expect(await publish(["--commit", "abcdef0123"])).toBe(0);
    bot = byStack();
    expect(comments).toHaveLength(6);
    expect(Object.fromEntries(Object.entries(bot).map(([stack, comment]) => [stack, comment.id]))).toEqual(ids);
    expect(bot.vpc?.body).toContain("plan at abcdef0:");
    // Every comment names the new commit, so each is patched once, in place.
    expect(requests.filter((r) => r.startsWith("PATCH")).sort()).toEqual([1002, 1003, 1004, 1005, 2].map((id) => `PATCH /repos/o/r/issues/comments/${id}`));
    expect(requests.filter((r) => r.startsWith("POST"))).toEqual([]);
  });

  it("refuses bad input before calling GitHub", async () => {
    const errors = jest.spyOn(console, "error").mockImplementation(() => undefined);
    const env = { GITHUB_TOKEN: "test-token", GITHUB_API_URL: apiUrl };
    expect(await main(["publish", "--repo", "o/r", "--pr", "x", "--plans", "p", "--synth", "s"], env)).toBe(2);
    expect(await main(["publish", "--repo", "o/r", "--pr", "7", "--plans", "p", "--synth", "s", "--expected", "vpc"], env)).toBe(2);
    expect(await main(["publish", "--repo", "o/r", "--pr", "7", "--plans", "p", "--synth", "s"], {})).toBe(2);
    expect(requests).toEqual([]);
    expect(errors.mock.calls.map(([line]) => line)).toEqual([
      "plan-comment: --pr takes a pull request number",
      "plan-comment: --expected takes a JSON list of stack ids, got vpc",
      "plan-comment: GITHUB_TOKEN is not set",
    ]);
    errors.mockRestore();
  });
});
