/**
 * The override file that points one synthesized stack at moto: the AWS provider's endpoints and
 * test credentials, a local backend, and every `terraform_remote_state` reading the producer's
 * local state file; attributes moto does not keep (gaps.ts) go to `lifecycle.ignore_changes`. The
 * synthesized cdk.tf.json is left as it is.
 *
 * Provider arguments: https://registry.terraform.io/providers/hashicorp/aws/latest/docs (endpoints,
 * skip_credentials_validation, skip_metadata_api_check, s3_use_path_style). terraform_remote_state
 * `defaults` are used when the state has no such output:
 * https://developer.hashicorp.com/terraform/language/state/remote-state-data
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stackOutputs, type StackId } from "../../contracts/stack-outputs";
import { stackJson } from "../lib/terraform-scratch";
import { IGNORED_ATTRIBUTES, LEFT_OUT } from "./gaps";

/** moto's default account, which the provider learns through STS. */
export const MOTO_ACCOUNT_ID = "123456789012";

/** Every AWS service the stacks call, sent to moto. */
const SERVICES = ["apigateway", "dynamodb", "ec2", "ecr", "events", "iam", "iot", "kms", "lambda", "logs", "s3", "secretsmanager", "sns", "sqs", "ssm", "sts"] as const;

export interface EmulateOverrideProps {
  readonly stackDir: string;
  readonly stackId: StackId;
  readonly motoEndpoint: string;
  /** Directory of the local state files, `<stack>.tfstate`. */
  readonly stateDir: string;
  /** Provider versions to request (the mirror's). */
  readonly providerVersions: Readonly<Record<string, string>>;
  /** Producers that are not applied: their outputs come from `defaults`. */
  readonly leftOut: ReadonlySet<StackId>;
}

export function emulateOverride(props: EmulateOverrideProps): object {
  const synthesized = stackJson(props.stackDir);
  const required: Record<string, object> = synthesized.terraform?.required_providers ?? {};
  const remoteStates: Record<string, unknown> = synthesized.data?.terraform_remote_state ?? {};
  const region: string = synthesized.provider?.aws?.[0]?.region;
  if (!region) throw new Error(`${props.stackId}: no aws provider region in cdk.tf.json`);

  const data: Record<string, object> = {};
  for (const id of Object.keys(remoteStates)) {
    const producer = /^remote-state-(.+)$/.exec(id)?.[1] as StackId | undefined;
    if (!producer || !(producer in stackOutputs)) throw new Error(`${props.stackId}: cannot tell the producer of terraform_remote_state.${id}`);
    data[id] = {
      backend: "local",
      config: { path: join(props.stateDir, `${producer}.tfstate`) },
      ...(props.leftOut.has(producer) ? { defaults: contractDefaults(producer, region) } : {}),
    };
  }

  const ignored: Record<string, Record<string, object>> = {};
  for (const [type, gap] of Object.entries(IGNORED_ATTRIBUTES)) {
    for (const id of Object.keys(synthesized.resource?.[type] ?? {})) {
      (ignored[type] ??= {})[id] = { lifecycle: { ignore_changes: gap.attributes } };
    }
  }

  return {
    terraform: {
      backend: { local: { path: join(props.stateDir, `${props.stackId}.tfstate`) } },
      required_providers: Object.fromEntries(Object.entries(required).map(([name, entry]) => [name, { ...entry, version: props.providerVersions[name] }])),
    },
    provider: {
      aws: {
        access_key: "test",
        secret_key: "test",
        skip_credentials_validation: true,
        skip_metadata_api_check: true,
        s3_use_path_style: true,
        endpoints: [Object.fromEntries(SERVICES.map((service) => [service, props.motoEndpoint]))],
      },
    },
    ...(Object.keys(data).length > 0 ? { data: { terraform_remote_state: data } } : {}),
    ...(Object.keys(ignored).length > 0 ? { resource: ignored } : {}),
  };
}

/**
 * Stand-in outputs of a producer that is not applied, one per name in the stack-output contract:
 * ARN-shaped for `*_arn` (IAM policies need an ARN), a recognisable name otherwise.
 */
export function contractDefaults(producer: StackId, region: string): Record<string, string> {
  return Object.fromEntries(
    Object.keys(stackOutputs[producer]).map((name) => [
      name,
      name.endsWith("_arn") ? `arn:aws:emulated:${region}:${MOTO_ACCOUNT_ID}:${producer}/${name}` : `emulated-${producer}-${name.replace(/_/g, "-")}`,
    ]),
  );
}

/**
 * An empty state (format version 4) for a producer that is not applied: `terraform_remote_state`
 * fails on a missing state file, but falls back to `defaults` for outputs an existing state lacks.
 */
function emptyState(producer: StackId, terraformVersion: string): object {
  return { version: 4, terraform_version: terraformVersion, serial: 1, lineage: `emulate-left-out-${producer}`, outputs: {}, resources: [] };
}

/** Creates `stateDir` with an empty state for each stack moto cannot hold (gaps.ts LEFT_OUT), and returns those stacks. */
export function writeLeftOutStates(stateDir: string, terraformVersion: string): ReadonlySet<StackId> {
  const leftOut = new Set(Object.keys(LEFT_OUT) as StackId[]);
  mkdirSync(stateDir);
  for (const id of leftOut) writeFileSync(join(stateDir, `${id}.tfstate`), JSON.stringify(emptyState(id, terraformVersion)));
  return leftOut;
}
