/**
 * npm run release:agent against a real stand-in: moto server (the emulate check's pinned venv,
 * scripts/emulate/moto.ts) for S3, IoT, STS and Secrets Manager, on a free port.
 *
 * What moto does not model, so these tests do not prove it: IAM (the release role's policy is not
 * evaluated: test/stacks/agent-release.test.ts holds it), ExpectedBucketOwner, IoT's presigning
 * (the document keeps its `${aws:iot:s3-presigned-url:…}` placeholder, which real IoT replaces when
 * a device fetches the document), CONTINUOUS targeting, rollout, abort and timeout (stored, never
 * run), a duplicate job id (moto overwrites the job; the script refuses it before, tested here), and
 * S3's check of an upload against its x-amz-checksum-sha256 (moto stores the value unchecked).
 */
import { CreateThingCommand, CreateThingGroupCommand, DescribeJobCommand, GetJobDocumentCommand, IoTClient, ListJobsCommand } from "@aws-sdk/client-iot";
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, ListObjectVersionsCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { STSClient } from "@aws-sdk/client-sts";
import { execFileSync } from "node:child_process";
import { createHash, generateKeyPairSync } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { agentJobDocumentSchema, agentReleaseFileName, agentReleaseObjectKey, releasePublicKeyFromBase64, releasePublicKeyToBase64, verifyReleaseSignature } from "../../contracts/agent-release";
import { projectNames } from "../../contracts/names";
import { ensureMotoVenv, startMoto, type MotoServer } from "../../scripts/emulate/moto";
import { parseReleaseOptions, UsageError } from "../../scripts/release-agent/options";
import { presignPlaceholder, releaseAgent, ReleaseError, SIGNING_KEY_VARIABLE, type ReleaseClients, type ReleaseEnvironment } from "../../scripts/release-agent/release";

const REGION = "eu-west-1";
const MOTO_ACCOUNT = "123456789012";
const names = projectNames("smarthome", "dev");
const bucket = names.agentReleaseBucket(MOTO_ACCOUNT);
const thing = `${names.prefix}-SN0001`;

const ed25519 = generateKeyPairSync("ed25519");
const signingPem = ed25519.privateKey.export({ format: "pem", type: "pkcs8" }).toString();

let moto: MotoServer;
let clients: ReleaseClients;
let work: string;

/** A release tarball as npm run build:agent lays it out: <name>/VERSION and the agent. */
function tarball(version: string, options: { versionInside?: string; fileName?: string; payload?: string } = {}): string {
  const directory = mkdtempSync(join(work, "release-"));
  const name = agentReleaseFileName(version).replace(/\.tar\.gz$/, "");
  mkdirSync(join(directory, name, "lib"), { recursive: true });
  writeFileSync(join(directory, name, "VERSION"), `${options.versionInside ?? version}\n`);
  writeFileSync(join(directory, name, "lib", "agent.js"), options.payload ?? `console.log("agent ${version}");\n`);
  const file = join(directory, options.fileName ?? agentReleaseFileName(version));
  execFileSync("tar", ["-czf", file, "-C", directory, name]);
  return file;
}

function environment(variables: Record<string, string> = { [SIGNING_KEY_VARIABLE]: signingPem }): ReleaseEnvironment {
  return { names, region: REGION, distDirectory: join(work, "dist"), variables };
}

const release = (argv: string[], env = environment()) => releaseAgent(parseReleaseOptions(argv), env, clients);
const jobIds = async () => ((await clients.iot.send(new ListJobsCommand({}))).jobs ?? []).map((job) => job.jobId).sort();
const objectVersions = async (key: string) => ((await clients.s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key }))).Versions ?? []).length;

beforeAll(async () => {
  moto = await startMoto(ensureMotoVenv());
  const common = { region: REGION, endpoint: moto.endpoint, credentials: { accessKeyId: "testing", secretAccessKey: "testing" } };
  clients = {
    s3: new S3Client({ ...common, forcePathStyle: true }),
    iot: new IoTClient(common),
    sts: new STSClient(common),
    secrets: new SecretsManagerClient(common),
  };
  work = mkdtempSync(join(tmpdir(), "release-agent-"));
  await clients.s3.send(new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: REGION } }));
  await clients.iot.send(new CreateThingGroupCommand({ thingGroupName: names.deviceThingGroup }));
  await clients.iot.send(new CreateThingCommand({ thingName: thing }));
}, 300_000);

afterAll(async () => {
  await moto?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("npm run release:agent (moto)", () => {
  it("uploads the tarball with its sha256 and creates one job for all devices that devices can verify", async () => {
    const file = tarball("1.4.0");
    const bytes = execFileSync("cat", [file]);
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    const result = await release(["--version", "1.4.0", "--target", "all", "--tarball", file, "--attempt", "run1", "--rollout-per-minute", "5", "--abort-failed-percent", "12.5", "--abort-min-executed", "4"]);
    expect(result).toMatchObject({ upload: "uploaded", bucket, key: agentReleaseObjectKey("1.4.0"), jobId: "smarthome-dev-agent-1_4_0-run1", sha256 });

    const stored = await clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: agentReleaseObjectKey("1.4.0") }));
    expect(createHash("sha256").update(await stored.Body!.transformToByteArray()).digest("hex")).toBe(sha256);
    const head = await clients.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: agentReleaseObjectKey("1.4.0"), ChecksumMode: "ENABLED" }));
    expect(head.ChecksumSHA256).toBe(Buffer.from(sha256, "hex").toString("base64"));

    const job = (await clients.iot.send(new DescribeJobCommand({ jobId: "smarthome-dev-agent-1_4_0-run1" }))).job;
    expect(job?.targets).toEqual([`arn:aws:iot:${REGION}:${MOTO_ACCOUNT}:thinggroup/${names.deviceThingGroup}`]);
    expect(job?.targetSelection).toBe("CONTINUOUS");
    expect(job?.presignedUrlConfig).toEqual({ roleArn: `arn:aws:iam::${MOTO_ACCOUNT}:role/${names.agentReleasePresignRole}`, expiresInSec: 3600 });
    expect(job?.timeoutConfig).toEqual({ inProgressTimeoutInMinutes: 60 });
    expect(result.job.jobExecutionsRolloutConfig).toEqual({ maximumPerMinute: 5 });
    expect(result.job.abortConfig?.criteriaList).toEqual(
      ["FAILED", "REJECTED", "TIMED_OUT"].map((failureType) => ({ failureType, action: "CANCEL", thresholdPercentage: 12.5, minNumberOfExecutedThings: 4 })),
    );

    const document = agentJobDocumentSchema.parse(JSON.parse((await clients.iot.send(new GetJobDocumentCommand({ jobId: "smarthome-dev-agent-1_4_0-run1" }))).document as string));
    expect(document).toMatchObject({ operation: "agent-update", version: "1.4.0", sha256 });
    expect(document.url).toBe(`\${aws:iot:s3-presigned-url:https://s3.${REGION}.amazonaws.com/${bucket}/agent/1.4.0/smart-home-agent-1.4.0-linux-arm64.tar.gz}`);
    expect(verifyReleaseSignature(releasePublicKeyFromBase64(result.publicKey), "1.4.0", sha256, document.signature)).toBe(true);
    expect(verifyReleaseSignature(ed25519.publicKey, "1.4.0", sha256, document.signature)).toBe(true);
    expect(verifyReleaseSignature(ed25519.publicKey, "1.4.1", sha256, document.signature)).toBe(false);
  }, 60_000);

  it("the same bytes again are idempotent (no second upload); a new attempt gets its own job", async () => {
    const file = tarball("1.5.0");
    await release(["--version", "1.5.0", "--target", names.deviceThingGroup, "--tarball", file, "--attempt", "a"]);
    const again = await release(["--version", "1.5.0", "--target", names.deviceThingGroup, "--tarball", file, "--attempt", "b"]);
    expect(again.upload).toBe("already there (same bytes)");
    expect(await objectVersions(agentReleaseObjectKey("1.5.0"))).toBe(1);
    expect(await jobIds()).toEqual(expect.arrayContaining(["smarthome-dev-agent-1_5_0-a", "smarthome-dev-agent-1_5_0-b"]));
  }, 60_000);

  it("refuses different bytes under a released version, and an object put there by hand without a checksum is compared by its bytes", async () => {
    const first = tarball("1.6.0");
    await release(["--version", "1.6.0", "--target", "all", "--tarball", first, "--attempt", "a"]);
    const before = await jobIds();
    const rebuilt = tarball("1.6.0", { payload: "console.log('tampered');\n" });
    await expect(release(["--version", "1.6.0", "--target", "all", "--tarball", rebuilt, "--attempt", "b"])).rejects.toThrow(/already holds different bytes/);
    expect(await jobIds()).toEqual(before);
    expect(await objectVersions(agentReleaseObjectKey("1.6.0"))).toBe(1);

    const byHand = tarball("1.6.1");
    await clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: agentReleaseObjectKey("1.6.1"), Body: execFileSync("cat", [byHand]) }));
    const result = await release(["--version", "1.6.1", "--target", "all", "--tarball", byHand, "--attempt", "a"]);
    expect(result.upload).toBe("already there (same bytes)");
  }, 60_000);

  it("an upload of other bytes that lands between the check and the write is not overwritten (If-None-Match), and no job is created", async () => {
    const file = tarball("1.6.2");
    // moto's real S3 conditional write decides; the wrapper only times another writer's upload.
    const racing: ReleaseClients = {
      ...clients,
      s3: {
        send: async (command: unknown) => {
          if (command instanceof PutObjectCommand && command.input.Key === agentReleaseObjectKey("1.6.2") && command.input.IfNoneMatch === "*") {
            await clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: agentReleaseObjectKey("1.6.2"), Body: "someone else's build" }));
          }
          return clients.s3.send(command as PutObjectCommand);
        },
      } as unknown as S3Client,
    };
    const before = await jobIds();
    await expect(releaseAgent(parseReleaseOptions(["--version", "1.6.2", "--target", "all", "--tarball", file]), environment(), racing)).rejects.toThrow(
      /was uploaded with different bytes while this release ran; nothing was created/,
    );
    const stored = await clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: agentReleaseObjectKey("1.6.2") }));
    expect(await stored.Body!.transformToString()).toBe("someone else's build");
    expect(await objectVersions(agentReleaseObjectKey("1.6.2"))).toBe(1);
    expect(await jobIds()).toEqual(before);
  }, 60_000);

  it("targets single things with a snapshot job", async () => {
    const result = await release(["--version", "1.7.0", "--target", thing, "--tarball", tarball("1.7.0"), "--attempt", "canary"]);
    const job = (await clients.iot.send(new DescribeJobCommand({ jobId: result.jobId }))).job;
    expect(job?.targets).toEqual([`arn:aws:iot:${REGION}:${MOTO_ACCOUNT}:thing/${thing}`]);
    expect(job?.targetSelection).toBe("SNAPSHOT");
  }, 60_000);

  it("reads the signing key from Secrets Manager", async () => {
    await clients.secrets.send(new CreateSecretCommand({ Name: "smarthome/dev/agent-release-key", SecretString: signingPem }));
    const result = await release(["--version", "1.8.0", "--target", "all", "--tarball", tarball("1.8.0"), "--signing-key-secret", "smarthome/dev/agent-release-key"], environment({}));
    expect(verifyReleaseSignature(ed25519.publicKey, "1.8.0", result.sha256, result.signature)).toBe(true);
  }, 60_000);

  it("dry run: checks everything, prints the job, uploads and creates nothing", async () => {
    const before = await jobIds();
    const result = await release(["--version", "1.9.0", "--target", "all", "--tarball", tarball("1.9.0"), "--dry-run"]);
    expect(result.upload).toBe("skipped (dry run)");
    expect(result.job.targets).toHaveLength(1);
    expect(await jobIds()).toEqual(before);
    expect(await objectVersions(agentReleaseObjectKey("1.9.0"))).toBe(0);
  }, 60_000);

  it("checks the signing key against the environment's fleet.releasePublicKey, and says which key to set when there is none", async () => {
    const lines: string[] = [];
    const argv = ["--version", "1.9.1", "--target", "all", "--tarball", tarball("1.9.1"), "--dry-run"];
    const fleetKey = releasePublicKeyToBase64(ed25519.publicKey);
    const matching = await releaseAgent(parseReleaseOptions(argv), { ...environment(), fleetReleasePublicKey: fleetKey }, clients, (line) => lines.push(line));
    expect(matching.publicKey).toBe(fleetKey);
    expect(lines.filter((line) => line.includes("fleet.releasePublicKey"))).toEqual([]);
    await releaseAgent(parseReleaseOptions(argv), environment(), clients, (line) => lines.push(line));
    expect(lines.filter((line) => line.includes("fleet.releasePublicKey"))).toEqual([
      `note: this environment has no fleet.releasePublicKey; set it to ${fleetKey} (config/environments/) so pi:image writes it into every image`,
    ]);
  }, 60_000);

  describe("bad input: a clear error, nothing uploaded, no job", () => {
    const cases: [string, () => Promise<unknown>, RegExp][] = [
      ["an unknown thing group", () => release(["--version", "2.0.0", "--target", "smarthome-dev-nonexistent", "--tarball", tarball("2.0.0")]), /unknown target "smarthome-dev-nonexistent"/],
      ["one unknown thing among known ones", () => release(["--version", "2.0.0", "--target", `${thing},smarthome-dev-SN9999`, "--tarball", tarball("2.0.0")]), /unknown target "smarthome-dev-SN9999"/],
      ["no signing key", () => release(["--version", "2.0.0", "--target", "all", "--tarball", tarball("2.0.0")], environment({})), /no signing key: set AGENT_RELEASE_SIGNING_KEY/],
      [
        "an EC key instead of Ed25519",
        () =>
          release(
            ["--version", "2.0.0", "--target", "all", "--tarball", tarball("2.0.0")],
            environment({ [SIGNING_KEY_VARIABLE]: generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ format: "pem", type: "pkcs8" }).toString() }),
          ),
        /is EC; releases are signed with Ed25519/,
      ],
      ["a key that is not PEM", () => release(["--version", "2.0.0", "--target", "all", "--tarball", tarball("2.0.0")], environment({ [SIGNING_KEY_VARIABLE]: "not a key" })), /not a PEM private key/],
      ["a secret that does not exist", () => release(["--version", "2.0.0", "--target", "all", "--tarball", tarball("2.0.0"), "--signing-key-secret", "missing"], environment({})), /cannot read the signing key from secret missing: ResourceNotFoundException/],
      ["a tarball named for another version", () => release(["--version", "2.0.0", "--target", "all", "--tarball", tarball("1.9.9", { fileName: "smart-home-agent-1.9.9-linux-arm64.tar.gz" })]), /must be named smart-home-agent-2\.0\.0-linux-arm64\.tar\.gz/],
      ["a tarball whose VERSION says otherwise", () => release(["--version", "2.0.0", "--target", "all", "--tarball", tarball("2.0.0", { versionInside: "1.9.9" })]), /holds version 1\.9\.9 \(its VERSION file\), not 2\.0\.0/],
      ["a missing tarball", () => release(["--version", "2.0.0", "--target", "all"]), /cannot read smart-home-agent-2\.0\.0-linux-arm64\/VERSION/],
      [
        "a signing key that is not the environment's fleet.releasePublicKey",
        () => release(["--version", "2.0.0", "--target", "all", "--tarball", tarball("2.0.0")], { ...environment(), fleetReleasePublicKey: releasePublicKeyToBase64(generateKeyPairSync("ed25519").publicKey) }),
        /the signing key's public key \S{44} is not the environment's fleet\.releasePublicKey \S{44}: every device would reject this release/,
      ],
    ];

    it.each(cases)("%s", async (_name, run, message) => {
      const before = await jobIds();
      const failure = run();
      await expect(failure).rejects.toThrow(ReleaseError);
      await expect(failure).rejects.toThrow(message);
      expect(await jobIds()).toEqual(before);
      expect(await objectVersions(agentReleaseObjectKey("2.0.0"))).toBe(0);
    }, 60_000);

    it("a job id already taken", async () => {
      await release(["--version", "2.1.0", "--target", "all", "--tarball", tarball("2.1.0"), "--attempt", "once"]);
      await expect(release(["--version", "2.1.0", "--target", "all", "--tarball", tarball("2.1.0", { payload: "other" }), "--attempt", "once"])).rejects.toThrow(
        /job smarthome-dev-agent-2_1_0-once already exists; pass another --attempt/,
      );
    }, 60_000);
  });
});

describe("the release command line", () => {
  it("takes the documented defaults", () => {
    expect(parseReleaseOptions(["--version", "1.4.0", "--target", "all"], new Date("2026-11-28T07:05:09.123Z"))).toEqual({
      version: "1.4.0",
      targets: ["all"],
      tarball: undefined,
      signingKeySecret: undefined,
      rolloutPerMinute: 10,
      abortFailedPercent: 10,
      abortMinExecuted: 10,
      timeoutMinutes: 60,
      attempt: "20261128T070509Z",
      dryRun: false,
    });
    expect(parseReleaseOptions(["--version", "1.4.0", "--target", "a, b,c"]).targets).toEqual(["a", "b", "c"]);
  });

  it.each([
    [[], /--version is required/],
    [["--version", "v1.4.0", "--target", "all"], /--version must be a version like 1\.4\.0/],
    [["--version", "1.4.0"], /--target is required/],
    [["--version", "1.4.0", "--target", "a b"], /is not a thing or thing group name/],
    [["--version", "1.4.0", "--target", "all", "--rollout-per-minute", "0"], /--rollout-per-minute must be a whole number from 1 to 1000/],
    [["--version", "1.4.0", "--target", "all", "--rollout-per-minute", "1001"], /from 1 to 1000/],
    [["--version", "1.4.0", "--target", "all", "--abort-failed-percent", "100.5"], /--abort-failed-percent must be a percentage/],
    [["--version", "1.4.0", "--target", "all", "--abort-failed-percent", "1.234"], /up to two decimals/],
    [["--version", "1.4.0", "--target", "all", "--abort-min-executed", "0"], /--abort-min-executed must be a whole number from 1/],
    [["--version", "1.4.0", "--target", "all", "--timeout-minutes", "10081"], /--timeout-minutes must be a whole number from 1 to 10080/],
    [["--version", "1.4.0", "--target", "all", "--signing-key", "x"], /Unknown option '--signing-key'/],
    [["--version", "1.4.0", "--target", "all", `${"-".repeat(5)}BEGIN PRIVATE KEY${"-".repeat(5)}\nMC4C` /* PEM-shaped, no key */], /a private key was passed on the command line/],
    [["--version", "1.4.0", "--target", Array.from({ length: 101 }, (_, i) => `t${i}`).join(",")], /at most 100, use a thing group/],
  ] as [string[], RegExp][])("%j is refused", (argv, message) => {
    expect(() => parseReleaseOptions(argv)).toThrow(UsageError);
    expect(() => parseReleaseOptions(argv)).toThrow(message);
  });

  it("the presigned-URL placeholder has the developer guide's regional form", () => {
    expect(presignPlaceholder("eu-west-1", "b", "agent/1/x.tar.gz")).toBe("${aws:iot:s3-presigned-url:https://s3.eu-west-1.amazonaws.com/b/agent/1/x.tar.gz}");
    expect(presignPlaceholder("cn-north-1", "b", "k")).toBe("${aws:iot:s3-presigned-url:https://s3.cn-north-1.amazonaws.com.cn/b/k}");
  });
});

describe("the release:agent entry point", () => {
  const run = (args: string[], env: Record<string, string>) => {
    try {
      return { status: 0, stderr: execFileSync("npx", ["tsx", join(__dirname, "..", "..", "scripts", "release-agent.ts"), ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } }) };
    } catch (error) {
      return { status: (error as { status: number }).status, stderr: String((error as { stderr: string }).stderr) };
    }
  };

  it("exits 2 on bad usage and 1 on a refused release, saying nothing was uploaded", () => {
    expect(run(["--version", "1.4.0"], {})).toEqual({ status: 2, stderr: expect.stringContaining("release:agent: --target is required") });
    const refused = run(["--version", "1.4.0", "--target", "all"], { [SIGNING_KEY_VARIABLE]: "" });
    expect(refused).toEqual({ status: 1, stderr: expect.stringContaining("no signing key") });
    expect(refused.stderr).toContain("nothing was uploaded or created");
  }, 60_000);
});
