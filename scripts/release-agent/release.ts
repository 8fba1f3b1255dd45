/**
 * What `npm run release:agent` does, as plain functions over S3, IoT, STS and Secrets Manager
 * clients (the CLI in scripts/release-agent.ts builds them; tests point them at moto).
 *
 * Every check runs before the first write: a bad key, a tarball of another version, an unknown
 * target or a job id already taken fail with nothing uploaded and no job created. Then the tarball
 * is uploaded once (the same bytes again are fine, different bytes under the same version are
 * refused), and one IoT job is created whose document devices verify (contracts/agent-release.ts).
 */
import { HeadObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { GetCallerIdentityCommand, type STSClient } from "@aws-sdk/client-sts";
import { CreateJobCommand, DescribeJobCommand, DescribeThingCommand, DescribeThingGroupCommand, type CreateJobCommandInput, type IoTClient } from "@aws-sdk/client-iot";
import { GetSecretValueCommand, type SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { execFileSync } from "node:child_process";
import { createHash, createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { basename, join } from "node:path";
import {
  agentJobDocumentSchema,
  agentReleaseFileName,
  agentReleaseJobId,
  agentReleaseObjectKey,
  AGENT_UPDATE_OPERATION,
  releasePublicKeyToBase64,
  signRelease,
  verifyReleaseSignature,
  type AgentJobDocument,
} from "../../contracts/agent-release";
import type { ProjectNames } from "../../contracts/names";
import { ALL_DEVICES_TARGET, type ReleaseOptions } from "./options";

/** A release refused for a reason the operator can fix; nothing was uploaded or created. */
export class ReleaseError extends Error {}

/** The environment variable that holds the signing key (PKCS#8 PEM) in CI. */
export const SIGNING_KEY_VARIABLE = "AGENT_RELEASE_SIGNING_KEY";

/**
 * How long a presigned download URL is valid. IoT presigns when a device requests the job document
 * (CreateJob PresignedUrlConfig: 60-3600 s, "generated when Jobs receives an MQTT request for the
 * job document"), so this only has to cover the start of one download; a device that retries later
 * asks for the document again and gets a fresh URL.
 */
export const PRESIGNED_URL_EXPIRY_SECONDS = 3600;

/** Job documents are at most 32,768 characters (AWS IoT API reference, JobExecution.jobDocument). */
const MAX_JOB_DOCUMENT_CHARACTERS = 32_768;

export interface ReleaseClients {
  readonly s3: S3Client;
  readonly iot: IoTClient;
  readonly sts: STSClient;
  readonly secrets: SecretsManagerClient;
}

export interface ReleaseEnvironment {
  readonly names: ProjectNames;
  readonly region: string;
  /** Where `--tarball` defaults to: npm run build:agent's output folder. */
  readonly distDirectory: string;
  /** process.env, for the signing key. */
  readonly variables: Readonly<Record<string, string | undefined>>;
  /**
   * The environment's `fleet.releasePublicKey`: the key its images carry. A signing key that does
   * not match it is refused before anything is uploaded.
   * @default - none: the release goes ahead, and the log says which key to put into the config
   */
  readonly fleetReleasePublicKey?: string;
}

export interface ReleaseResult {
  readonly version: string;
  readonly sha256: string;
  readonly signature: string;
  /** The public key that verifies the signature, in the agent config's form (release.publicKey). */
  readonly publicKey: string;
  readonly bucket: string;
  readonly key: string;
  readonly upload: "uploaded" | "already there (same bytes)" | "skipped (dry run)";
  readonly jobId: string;
  readonly jobArn?: string;
  readonly job: CreateJobCommandInput;
}

/** The Ed25519 key from AGENT_RELEASE_SIGNING_KEY or a Secrets Manager secret. */
export async function loadSigningKey(options: Pick<ReleaseOptions, "signingKeySecret">, environment: ReleaseEnvironment, clients: ReleaseClients): Promise<KeyObject> {
  let pem: string | undefined;
  let source: string;
  if (options.signingKeySecret) {
    source = `secret ${options.signingKeySecret}`;
    try {
      pem = (await clients.secrets.send(new GetSecretValueCommand({ SecretId: options.signingKeySecret }))).SecretString;
    } catch (error) {
      throw new ReleaseError(`cannot read the signing key from ${source}: ${(error as Error).name}: ${(error as Error).message}`);
    }
  } else {
    source = SIGNING_KEY_VARIABLE;
    pem = environment.variables[SIGNING_KEY_VARIABLE];
  }
  if (!pem || pem.trim() === "") throw new ReleaseError(`no signing key: set ${SIGNING_KEY_VARIABLE} to the Ed25519 private key (PKCS#8 PEM) or pass --signing-key-secret <secret id>`);
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: "pem" });
  } catch {
    throw new ReleaseError(`the signing key in ${source} is not a PEM private key (expected an Ed25519 key in PKCS#8 PEM, as "openssl genpkey -algorithm ed25519" writes it)`);
  }
  if (key.asymmetricKeyType !== "ed25519") throw new ReleaseError(`the signing key in ${source} is ${key.asymmetricKeyType?.toUpperCase() ?? "not asymmetric"}; releases are signed with Ed25519`);
  return key;
}

/** Checks the tarball is this version's release: its file name and the VERSION file inside. */
export function checkTarball(tarball: string, version: string): void {
  const expected = agentReleaseFileName(version);
  if (basename(tarball) !== expected) throw new ReleaseError(`${tarball} is not the release of ${version}: its file must be named ${expected}`);
  const member = `${expected.replace(/\.tar\.gz$/, "")}/VERSION`;
  let inside: string;
  try {
    inside = execFileSync("tar", ["-xzOf", tarball, member], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
  } catch (error) {
    const reason = ((error as { stderr?: string }).stderr ?? (error as Error).message).trim().split("\n")[0];
    throw new ReleaseError(`cannot read ${member} from ${tarball}: ${reason}`);
  }
  if (inside !== version) throw new ReleaseError(`${tarball} holds version ${inside} (its VERSION file), not ${version}`);
}

/** Thing group or thing ARNs of the targets; an unknown name is an error. */
async function resolveTargets(targets: readonly string[], names: ProjectNames, iot: IoTClient): Promise<{ arns: string[]; anyGroup: boolean }> {
  const arns: string[] = [];
  let anyGroup = false;
  for (const target of targets) {
    const name = target === ALL_DEVICES_TARGET ? names.deviceThingGroup : target;
    const group = await describeOrUndefined(() => iot.send(new DescribeThingGroupCommand({ thingGroupName: name })));
    if (group?.thingGroupArn) {
      arns.push(group.thingGroupArn);
      anyGroup = true;
      continue;
    }
    const thing = await describeOrUndefined(() => iot.send(new DescribeThingCommand({ thingName: name })));
    if (!thing?.thingArn) throw new ReleaseError(`unknown target "${name}": no thing group or thing of that name`);
    arns.push(thing.thingArn);
  }
  return { arns, anyGroup };
}

async function describeOrUndefined<T>(describe: () => Promise<T>): Promise<T | undefined> {
  try {
    return await describe();
  } catch (error) {
    if ((error as Error).name === "ResourceNotFoundException") return undefined;
    throw error;
  }
}

/** The object already under the key: its sha256 (hex), or undefined when there is none. */
async function existingSha256(s3: S3Client, bucket: string, key: string, owner: string): Promise<string | undefined> {
  let head;
  try {
    head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ExpectedBucketOwner: owner, ChecksumMode: "ENABLED" }));
  } catch (error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if ((error as Error).name === "NotFound" || status === 404) return undefined;
    if (status === 403) throw new ReleaseError(`access to s3://${bucket}/${key} is denied: the bucket is not account ${owner}'s, or these credentials are not the agent-release role`);
    throw error;
  }
  if (head.ChecksumSHA256 && !head.ChecksumSHA256.includes("-")) return Buffer.from(head.ChecksumSHA256, "base64").toString("hex");
  // Uploaded without a full-object SHA-256 checksum (by hand, or in parts): hash what is there.
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ExpectedBucketOwner: owner }));
  return createHash("sha256").update(await (object.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray()).digest("hex");
}

/** The S3 URL IoT presigns; the developer guide's regional form (IoT "Create and manage jobs"). */
export function presignPlaceholder(region: string, bucket: string, key: string): string {
  const domain = region.startsWith("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
  return `\${aws:iot:s3-presigned-url:https://s3.${region}.${domain}/${bucket}/${key}}`;
}

export function jobRequest(options: ReleaseOptions, parts: { jobId: string; targets: string[]; continuous: boolean; document: AgentJobDocument; presignRoleArn: string }): CreateJobCommandInput {
  const document = JSON.stringify(agentJobDocumentSchema.parse(parts.document));
  if (document.length > MAX_JOB_DOCUMENT_CHARACTERS) throw new ReleaseError(`the job document is ${document.length} characters; IoT allows ${MAX_JOB_DOCUMENT_CHARACTERS}`);
  return {
    jobId: parts.jobId,
    targets: parts.targets,
    document,
    description: `Pi agent ${options.version}`,
    presignedUrlConfig: { roleArn: parts.presignRoleArn, expiresInSec: PRESIGNED_URL_EXPIRY_SECONDS },
    // CONTINUOUS: a device that joins the group later (a new Pi) also gets the release.
    targetSelection: parts.continuous ? "CONTINUOUS" : "SNAPSHOT",
    jobExecutionsRolloutConfig: { maximumPerMinute: options.rolloutPerMinute },
    // One criterion per failure type: a bad release that fails, is rejected (bad signature or
    // checksum) or hangs stops spreading. Criteria are checked in order (IoT "Job configurations").
    abortConfig: {
      criteriaList: (["FAILED", "REJECTED", "TIMED_OUT"] as const).map((failureType) => ({
        failureType,
        action: "CANCEL" as const,
        thresholdPercentage: options.abortFailedPercent,
        minNumberOfExecutedThings: options.abortMinExecuted,
      })),
    },
    timeoutConfig: { inProgressTimeoutInMinutes: options.timeoutMinutes },
  };
}

/** The signing key must be the one the fleet's images trust, or every device would REJECT the release. */
function checkFleetKey(signingPublicKey: string, fleetKey: string | undefined, log: (line: string) => void): void {
  if (fleetKey === undefined) {
    log(`note: this environment has no fleet.releasePublicKey; set it to ${signingPublicKey} (config/environments/) so pi:image writes it into every image`);
    return;
  }
  if (fleetKey !== signingPublicKey) {
    throw new ReleaseError(`the signing key's public key ${signingPublicKey} is not the environment's fleet.releasePublicKey ${fleetKey}: every device would reject this release`);
  }
}

export async function releaseAgent(options: ReleaseOptions, environment: ReleaseEnvironment, clients: ReleaseClients, log: (line: string) => void = () => {}): Promise<ReleaseResult> {
  const { names, region } = environment;
  // --- Checks: nothing is written until all of them pass ---------------------------------------
  const signingKey = await loadSigningKey(options, environment, clients);
  const publicKey = createPublicKey(signingKey);
  const publicKeyBase64 = releasePublicKeyToBase64(publicKey);
  checkFleetKey(publicKeyBase64, environment.fleetReleasePublicKey, log);
  const tarball = options.tarball ?? join(environment.distDirectory, agentReleaseFileName(options.version));
  checkTarball(tarball, options.version);
  const bytes = readFileSync(tarball);
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  const signature = signRelease(signingKey, options.version, sha256);
  if (!verifyReleaseSignature(publicKey, options.version, sha256, signature)) throw new ReleaseError("the signature does not verify against the signing key's own public key");
  log(`release ${options.version}: ${basename(tarball)}, ${bytes.length} bytes, sha256 ${sha256}`);
  log(`signed; verify with release.publicKey ${publicKeyBase64}`);

  const identity = await clients.sts.send(new GetCallerIdentityCommand({}));
  const account = identity.Account as string;
  const partition = (identity.Arn ?? "arn:aws:").split(":")[1] ?? "aws";
  const bucket = names.agentReleaseBucket(account);
  const key = agentReleaseObjectKey(options.version);
  const presignRoleArn = `arn:${partition}:iam::${account}:role/${names.agentReleasePresignRole}`;

  const { arns: targets, anyGroup } = await resolveTargets(options.targets, names, clients.iot);
  log(`targets: ${targets.join(", ")}`);
  const jobId = agentReleaseJobId(names.prefix, options.version, options.attempt);
  if (await describeOrUndefined(() => clients.iot.send(new DescribeJobCommand({ jobId })))) {
    throw new ReleaseError(`job ${jobId} already exists; pass another --attempt`);
  }
  const existing = await existingSha256(clients.s3, bucket, key, account);
  if (existing !== undefined && existing !== sha256) {
    throw new ReleaseError(`s3://${bucket}/${key} already holds different bytes (sha256 ${existing}); a version is released once, build a new version`);
  }
  const job = jobRequest(options, {
    jobId,
    targets,
    continuous: anyGroup,
    document: { operation: AGENT_UPDATE_OPERATION, version: options.version, url: presignPlaceholder(region, bucket, key), sha256, signature },
    presignRoleArn,
  });
  const result = { version: options.version, sha256, signature, publicKey: publicKeyBase64, bucket, key, jobId, job };
  if (options.dryRun) {
    log(`dry run: would upload s3://${bucket}/${key} and create job ${jobId}:`);
    log(JSON.stringify(job, null, 2));
    return { ...result, upload: "skipped (dry run)" };
  }

  // --- Writes -----------------------------------------------------------------------------------
  let upload: ReleaseResult["upload"] = "already there (same bytes)";
  if (existing === undefined) {
    try {
      await clients.s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: bytes,
          ContentType: "application/gzip",
          // S3 checks the bytes against this and keeps it: the next run compares without downloading.
          ChecksumAlgorithm: "SHA256",
          ChecksumSHA256: Buffer.from(sha256, "hex").toString("base64"),
          // Bucket names are global: the bucket must be this account's (S3 "bucket owner condition").
          ExpectedBucketOwner: account,
          // A concurrent upload of the same version loses instead of overwriting (S3 conditional writes: 412 when the key exists, https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html).
          IfNoneMatch: "*",
          Metadata: { version: options.version, sha256 },
        }),
      );
      upload = "uploaded";
    } catch (error) {
      if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode !== 412) throw error;
      const raced = await existingSha256(clients.s3, bucket, key, account);
      if (raced !== sha256) throw new ReleaseError(`s3://${bucket}/${key} was uploaded with different bytes while this release ran; nothing was created`);
    }
  }
  log(`s3://${bucket}/${key}: ${upload}`);
  const created = await clients.iot.send(new CreateJobCommand(job));
  log(`created job ${created.jobId} (${created.jobArn}): ${job.targetSelection}, ${options.rolloutPerMinute}/min, cancel at ${options.abortFailedPercent}% FAILED/REJECTED/TIMED_OUT after ${options.abortMinExecuted} devices, ${options.timeoutMinutes} min timeout`);
  log(`follow it: aws iot describe-job --job-id ${jobId}; stop it: aws iot cancel-job --job-id ${jobId}`);
  return { ...result, upload, jobArn: created.jobArn };
}
