import { existsSync, readFileSync } from "node:fs";
import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import * as z from "zod/mini";
import type { EnvironmentConfig } from "../../config";
import { projectNames } from "../../contracts/names";
import { localClaimFiles } from "../../local/state-files";

/** What a device of one batch needs to provision itself. */
export interface ClaimBundle {
  readonly batch: string;
  readonly certificatePem: string;
  readonly privateKeyPem: string;
  /** The CA the endpoint's server certificate chains to (Amazon Root CA 1, or the local platform's CA). */
  readonly caPem: string;
  readonly endpoint: string;
  readonly port: number;
}

export class ClaimError extends Error {}

/** IoT Core's MQTT over TLS port. */
const IOT_MQTT_PORT = 8883;

/** The secret `modules/claim-certificate.ts` stores per batch (JSON). */
const claimSecretSchema = z.object({
  endpoint: z.string().check(z.minLength(1)),
  templateName: z.string(),
  batch: z.string(),
  certificatePem: z.string(),
  privateKey: z.string(),
  caPem: z.string(),
});

export interface ClaimSource {
  /** `secret` (the iot-fleet stack's per-batch secret) or the local platform's state directory. */
  readonly from: string;
  readonly batch: string;
  readonly config: EnvironmentConfig;
  /** `host[:port]` the Pi reaches the local platform's MQTT at; only (and then required) for a folder. */
  readonly endpoint?: string;
  /** @default a client from the standard AWS environment (credentials, region, AWS_ENDPOINT_URL_SECRETS_MANAGER) */
  readonly secretsManager?: SecretsManagerClient;
}

/**
 * The claim bundle of one batch. The batch must be listed and active in the environment's config,
 * the one place a batch is retired (`active: false` makes its claim certificate INACTIVE).
 */
export async function loadClaimBundle(source: ClaimSource): Promise<ClaimBundle> {
  const { batch, config } = source;
  const listed = config.fleet.batches.find((candidate) => candidate.name === batch);
  if (!listed) {
    throw new ClaimError(`batch ${batch} is not in environment ${config.name}; its batches: ${config.fleet.batches.map((b) => b.name).join(", ")}`);
  }
  if (!listed.active) {
    throw new ClaimError(`batch ${batch} is retired (active: false in environment ${config.name}): its claim certificate is inactive, a Pi flashed with it could never provision`);
  }
  const bundle = source.from === "secret" ? await fromSecret(source) : fromLocalPlatform(source);
  if (!bundle.certificatePem.includes("-----BEGIN CERTIFICATE-----") || !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(bundle.privateKeyPem)) {
    throw new ClaimError(`the claim of batch ${batch} is not a PEM certificate and private key`);
  }
  return bundle;
}

async function fromSecret(source: ClaimSource): Promise<ClaimBundle> {
  if (source.endpoint) throw new ClaimError("--endpoint is only for --claim-from <folder>: the secret holds the IoT endpoint");
  const names = projectNames(source.config.project, source.config.name);
  const secretId = names.claimSecret(source.batch);
  const client = source.secretsManager ?? new SecretsManagerClient({ region: source.config.region });
  let text: string | undefined;
  try {
    text = (await client.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) {
      throw new ClaimError(`no secret ${secretId}: is batch ${source.batch} deployed (npm run synth, then deploy the iot-fleet stack)?`);
    }
    throw new ClaimError(`cannot read secret ${secretId}: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text ?? "");
  } catch {
    throw new ClaimError(`secret ${secretId} is not JSON`);
  }
  const parsed = claimSecretSchema.safeParse(json);
  if (!parsed.success) throw new ClaimError(`secret ${secretId} is not a claim bundle: ${parsed.error.issues.map((issue) => issue.path.join(".")).join(", ")}`);
  const secret = parsed.data;
  if (secret.batch !== source.batch || secret.templateName !== names.provisioningTemplate) {
    throw new ClaimError(`secret ${secretId} is for batch ${secret.batch} and template ${secret.templateName}, not ${source.batch} and ${names.provisioningTemplate}`);
  }
  return { batch: source.batch, certificatePem: secret.certificatePem, privateKeyPem: secret.privateKey, caPem: secret.caPem, endpoint: secret.endpoint, port: IOT_MQTT_PORT };
}

function fromLocalPlatform(source: ClaimSource): ClaimBundle {
  if (!source.endpoint) {
    throw new ClaimError("--claim-from <folder> needs --endpoint <host[:port]>: where the Pi reaches the local platform's MQTT (it listens on all interfaces only if you make it)");
  }
  const address = /^([A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(source.endpoint);
  const port = Number(address?.[2] ?? IOT_MQTT_PORT);
  if (!address || port < 1 || port > 65535) throw new ClaimError(`--endpoint ${source.endpoint} is not host[:port]`);
  const files = localClaimFiles(source.from, source.batch);
  const missing = [files.certificatePath, files.privateKeyPath, files.caPath].filter((path) => !existsSync(path));
  if (missing.length > 0) {
    throw new ClaimError(`${source.from} has no claim of batch ${source.batch} (missing ${missing.join(", ")}); run npm run local once with this batch in the environment`);
  }
  return {
    batch: source.batch,
    certificatePem: readFileSync(files.certificatePath, "utf8"),
    privateKeyPem: readFileSync(files.privateKeyPath, "utf8"),
    caPem: readFileSync(files.caPath, "utf8"),
    endpoint: address[1]!,
    port,
  };
}
