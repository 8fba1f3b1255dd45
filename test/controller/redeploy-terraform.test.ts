import { NullProvider } from "@cdktf/provider-null/lib/provider";
import { App, LocalBackend, TerraformStack, TerraformVariable } from "cdktf";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ControllerRedeploy } from "../../modules/controller-redeploy";
import { CONTROLLER_IMAGE_TAG_VARIABLE } from "../../stacks/ec2";
import { terraformProviders } from "../../scripts/lib/terraform-providers";
import { startSshServer, type SshServer } from "../helpers/ssh-server";

/**
 * The redeploy null_resource applied by real Terraform (1.11, the real hashicorp/null provider from
 * the offline mirror, local backend) on a test stack holding only it. Its local-exec runs the real
 * ssh-redeploy.sh, whose `aws ec2-instance-connect` calls go to a stand-in (fixtures/aws: no AWS
 * here) that pushes the one-time key into, and tunnels to, a real sshd on loopback; there
 * redeploy.sh runs against the docker stand-in (fixtures/docker: no container engine here).
 */
jest.setTimeout(180_000);

const TERRAFORM = "/usr/local/bin/terraform";
const FIXTURES = join(__dirname, "fixtures");
const REPOSITORY = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/smarthome-dev/controller";

let server: SshServer;
let root: string;
let stackDirectory: string;
let env: NodeJS.ProcessEnv;

const dockerCalls = () => (existsSync(join(root, "docker", "calls.log")) ? readFileSync(join(root, "docker", "calls.log"), "utf8").trim().split("\n") : []);
const runs = () => dockerCalls().filter((call) => call.startsWith("run "));
const awsCalls = () => (existsSync(join(root, "aws.log")) ? readFileSync(join(root, "aws.log"), "utf8").trim().split("\n") : []);
const terraform = (...args: string[]) => execFileSync(TERRAFORM, args, { cwd: stackDirectory, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
const apply = (tag: string) => terraform("apply", "-auto-approve", "-input=false", "-no-color", `-var=${CONTROLLER_IMAGE_TAG_VARIABLE}=${tag}`);

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "redeploy-terraform-"));
  mkdirSync(join(root, "docker"));
  mkdirSync(join(root, "etc"));
  writeFileSync(join(root, "etc", "run.conf"), "CONTAINER_NAME=controller\nCONTROLLER_PORT=8080\nLOG_REGION=eu-west-1\nLOG_GROUP=/smarthome/dev/controller\n");
  writeFileSync(join(root, "etc", "controller.env"), "PORT=8080\n");
  server = await startSshServer({
    PATH: `${FIXTURES}:/usr/local/bin:/usr/bin:/bin`,
    DOCKER_STANDIN_STATE: join(root, "docker"),
    CONTROLLER_CONFIG_DIR: join(root, "etc"),
    CONTROLLER_REDEPLOY_LOCK: join(root, "redeploy.lock"),
    CONTROLLER_HEALTH_POLL_SECONDS: "1",
  });

  const app = new App({ outdir: join(root, "cdktf.out") });
  const stack = new TerraformStack(app, "redeploy");
  new LocalBackend(stack, { path: join(root, "terraform.tfstate") });
  new NullProvider(stack, "null");
  const tag = new TerraformVariable(stack, CONTROLLER_IMAGE_TAG_VARIABLE, { type: "string" });
  tag.overrideLogicalId(CONTROLLER_IMAGE_TAG_VARIABLE);
  new ControllerRedeploy(stack, "controller-redeploy", { instanceId: "i-0123456789abcdef0", repositoryUrl: REPOSITORY, imageTag: tag.stringValue, region: "eu-west-1", osUser: server.user });
  app.synth();
  stackDirectory = join(root, "cdktf.out", "stacks", "redeploy");

  const providers = terraformProviders();
  writeFileSync(join(stackDirectory, "providers_override.tf.json"), JSON.stringify({ terraform: { required_providers: { null: { source: "hashicorp/null", version: providers.versions.null } } } }));
  env = {
    PATH: `${FIXTURES}:${process.env.PATH}`,
    HOME: process.env.HOME,
    TF_CLI_CONFIG_FILE: providers.cliConfigFile,
    CHECKPOINT_DISABLE: "1",
    TF_IN_AUTOMATION: "1",
    EICE_STANDIN_AUTHORIZED_KEYS: server.authorizedKeys,
    EICE_STANDIN_PORT: String(server.port),
    EICE_STANDIN_LOG: join(root, "aws.log"),
    CONNECT_ATTEMPTS: "2",
    RETRY_SECONDS: "1",
  };
  terraform("init", "-input=false", "-no-color");
});

afterAll(async () => {
  await server?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe("the redeploy null_resource under real Terraform", () => {
  it("a new tag runs the redeploy once, over a one-time key and the Instance Connect tunnel", () => {
    const output = apply("sha-1");
    expect(output).toMatch(/Apply complete! Resources: 1 added, 0 changed, 0 destroyed/);
    expect(output).toMatch(/step=done result=deployed image=\S+:sha-1/);
    expect(runs()).toEqual([expect.stringMatching(/:sha-1$/)]);
    expect(awsCalls().filter((call) => call.includes("send-ssh-public-key"))).toHaveLength(1);
    expect(awsCalls().filter((call) => call.includes("open-tunnel --instance-id i-0123456789abcdef0"))).toHaveLength(1);
  });

  it("the same tag runs nothing", () => {
    const before = dockerCalls().length;
    const output = apply("sha-1");
    expect(output).toMatch(/No changes|Resources: 0 added, 0 changed, 0 destroyed/);
    expect(dockerCalls()).toHaveLength(before);
  });

  it("changing the tag runs it once more, and state records the image that runs", () => {
    const output = apply("sha-2");
    expect(output).toMatch(/Resources: 1 added, 0 changed, 1 destroyed/);
    expect(runs()).toEqual([expect.stringMatching(/:sha-1$/), expect.stringMatching(/:sha-2$/)]);
    const state = JSON.parse(terraform("show", "-json", "-no-color"));
    const [resource] = state.values.root_module.child_modules?.flatMap((module: any) => module.resources) ?? state.values.root_module.resources;
    expect(resource.values.triggers.image).toBe(`${REPOSITORY}:sha-2`);
  });
});
