import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { DataTerraformRemoteStateS3, LocalBackend, S3Backend, TerraformOutput, TerraformResource, TerraformStack } from "cdktf";
import type { Construct, Node } from "constructs";
import type { EnvironmentConfig } from "../config";
import { projectNames, type ProjectNames } from "../contracts/names";
import { stackOutputs, stateKey, type OutputName, type StackId } from "../contracts/stack-outputs";
import { stateKmsKeyId } from "../modules/state-bucket";

/** S3-native state locking (a `.tflock` object beside the state) needs Terraform 1.11. */
export const REQUIRED_TERRAFORM_VERSION = ">= 1.11.0";

export interface ProjectStackProps {
  readonly config: EnvironmentConfig;
  /**
   * Where this stack keeps its state.
   * @default "s3" - `<env>/<stack>.tfstate` in the config's state bucket, encrypted and locked
   *   with an S3 lock file; "local" only for the stack that creates that bucket
   */
  readonly backend?: "s3" | "local";
}

/**
 * A deployable module: its AWS provider (region, account guard, default tags), its backend, and
 * typed access to the outputs of the stacks it builds on.
 */
export class ProjectStack<S extends StackId = StackId> extends TerraformStack {
  readonly stackId: S;
  readonly config: EnvironmentConfig;
  readonly names: ProjectNames;
  readonly backend: "s3" | "local";
  private readonly remoteStates = new Map<StackId, DataTerraformRemoteStateS3>();

  constructor(scope: Construct, id: S, props: ProjectStackProps) {
    super(scope, id);
    this.stackId = id;
    this.config = props.config;
    this.names = projectNames(props.config.project, props.config.name);

    new AwsProvider(this, "aws", {
      region: props.config.region,
      allowedAccountIds: props.config.accountId ? [props.config.accountId] : undefined,
      defaultTags: [
        {
          tags: {
            ...props.config.tags,
            Project: props.config.project,
            Environment: props.config.name,
            Stack: id,
            ManagedBy: "cdktf",
          },
        },
      ],
    });

    this.backend = props.backend ?? "s3";
    if (this.backend === "s3") {
      new S3Backend(this, {
        bucket: props.config.stateBucket,
        key: stateKey(props.config.name, id),
        region: props.config.region,
        encrypt: true,
        // Without kms_key_id, encrypt = true writes AES256 and overrides the bucket's KMS default;
        // state holds private keys, so it is encrypted with the state bucket's own key.
        kmsKeyId: stateKmsKeyId(this.names.stateKeyAlias, props.config.region, props.config.accountId),
      });
      // cdktf 0.21's S3Backend predates S3-native locking; DynamoDB locking is deprecated.
      this.addOverride("terraform.backend.s3.use_lockfile", true);
    } else {
      // terraform.<stack>.tfstate in the directory cdktf runs from (the repo root), outside cdktf.out.
      new LocalBackend(this, {});
    }
    this.addOverride("terraform.required_version", REQUIRED_TERRAFORM_VERSION);
  }

  /** Declares this stack's outputs; the contract in contracts/stack-outputs.ts fixes their names. */
  exportOutputs(values: Record<OutputName<S>, string>): void {
    const descriptions: Record<string, string> = stackOutputs[this.stackId];
    for (const [name, value] of Object.entries<string>(values)) {
      const output = new TerraformOutput(this, `output-${name}`, { value, description: descriptions[name] });
      output.overrideLogicalId(name);
    }
  }

  /**
   * Keeps the state of resources a refactoring put under `wrapper`, a construct inserted between them
   * and their old parent: each resource gets a `moved` block from the address it had before, so
   * Terraform renames its state entry instead of destroying and recreating it. `renamed` maps a path
   * below the wrapper to the path the resource had below the wrapper's parent, where its own id
   * changed too (by default the same path). The blocks stay: removing one breaks any state that has
   * not been applied since (developer.hashicorp.com/terraform/language/modules/develop/refactoring).
   * Returns how many resources it moved. It sees the resources under `wrapper` when it is called:
   * call it after the last one is added.
   */
  moveIntoWrapper(wrapper: Construct, renamed: Readonly<Record<string, string>> = {}): number {
    const wrapperDepth = wrapper.node.scopes.length;
    const parentIds = wrapper.node.scopes.slice(this.node.scopes.length, wrapperDepth - 1).map((scope) => scope.node.id);
    const used = new Set<string>();
    const resources = wrapper.node.findAll().filter((child): child is TerraformResource => TerraformResource.isTerraformResource(child));
    for (const resource of resources) {
      const below = resource.node.scopes.slice(wrapperDepth).map((scope) => scope.node.id).join("/");
      const before = renamed[below] ?? below;
      if (below in renamed) used.add(below);
      resource.moveFromId(`${resource.terraformResourceType}.${this.logicalIdAt([...parentIds, ...before.split("/")])}`);
    }
    const unknown = Object.keys(renamed).filter((path) => !used.has(path));
    if (unknown.length) throw new Error(`moveIntoWrapper(${wrapper.node.path}): no resource at ${unknown.join(", ")}`);
    return resources.length;
  }

  /**
   * cdktf reads this only to add, to a stack with a moved block, a check that runs `terraform
   * version` and wants >= 1.5 (cdktf/lib/synthesize/synthesizer.js): synth would then need the
   * terraform binary on PATH and spend a process start per stack on it. The stacks' own
   * `required_version` (>= 1.11) already makes Terraform refuse an older version at init and plan,
   * and the moved blocks are rendered by each resource regardless.
   */
  override hasResourceMove(): boolean {
    return false;
  }

  /** The logical id this stack's naming scheme gives a resource at `ids` (construct ids below the stack). */
  private logicalIdAt(ids: readonly string[]): string {
    // allocateLogicalId reads only `scopes[].node.id` of the node it is given.
    const scopes = [this, ...ids.map((id) => ({ node: { id } }))];
    return this.allocateLogicalId({ scopes } as unknown as Node);
  }

  /**
   * The outputs of an earlier stack, read from its remote state. Makes this stack depend on it, so
   * `cdktf deploy` orders them.
   */
  outputsOf<P extends StackId>(producer: ProjectStack<P>): Readonly<Record<OutputName<P>, string>> {
    if (producer.backend !== "s3") {
      throw new Error(`stack "${this.stackId}" cannot read outputs of "${producer.stackId}": its state is local, not in S3`);
    }
    this.addDependency(producer);
    let state = this.remoteStates.get(producer.stackId);
    if (!state) {
      state = new DataTerraformRemoteStateS3(this, `remote-state-${producer.stackId}`, {
        bucket: this.config.stateBucket,
        key: stateKey(this.config.name, producer.stackId),
        region: this.config.region,
        encrypt: true,
      });
      this.remoteStates.set(producer.stackId, state);
    }
    const remote = state;
    const names = Object.keys(stackOutputs[producer.stackId]) as OutputName<P>[];
    return Object.fromEntries(names.map((name) => [name, remote.getString(name)])) as Record<OutputName<P>, string>;
  }
}
