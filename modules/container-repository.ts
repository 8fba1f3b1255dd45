import { EcrLifecyclePolicy } from "@cdktf/provider-aws/lib/ecr-lifecycle-policy";
import { EcrRepository } from "@cdktf/provider-aws/lib/ecr-repository";
import { Construct } from "constructs";

export interface ContainerRepositoryProps {
  readonly repositoryName: string;
  /**
   * Tagged images kept; older ones expire. Deploys use immutable tags (git SHAs), so this bounds
   * how far back a rollback can go.
   * @default 30
   */
  readonly keepTaggedImages?: number;
  /** @default 7 */
  readonly untaggedImageExpiryDays?: number;
}

/**
 * An ECR repository that survives `cdktf destroy` (prevent_destroy): images are the only copy of
 * what ran. Scanned on push, immutable tags, KMS encryption, bounded by a lifecycle policy.
 */
export class ContainerRepository extends Construct {
  readonly repository: EcrRepository;
  readonly repositoryName: string;
  readonly repositoryUrl: string;
  readonly repositoryArn: string;

  constructor(scope: Construct, id: string, props: ContainerRepositoryProps) {
    super(scope, id);
    this.repository = new EcrRepository(this, "repository", {
      name: props.repositoryName,
      imageTagMutability: "IMMUTABLE",
      imageScanningConfiguration: { scanOnPush: true },
      encryptionConfiguration: [{ encryptionType: "KMS" }],
      forceDelete: false,
      lifecycle: { preventDestroy: true },
    });
    this.repositoryName = this.repository.name;
    this.repositoryUrl = this.repository.repositoryUrl;
    this.repositoryArn = this.repository.arn;

    new EcrLifecyclePolicy(this, "lifecycle-policy", {
      repository: this.repository.name,
      policy: JSON.stringify({
        rules: [
          {
            rulePriority: 1,
            description: `Expire untagged images after ${props.untaggedImageExpiryDays ?? 7} days`,
            selection: {
              tagStatus: "untagged",
              countType: "sinceImagePushed",
              countUnit: "days",
              countNumber: props.untaggedImageExpiryDays ?? 7,
            },
            action: { type: "expire" },
          },
          {
            rulePriority: 2,
            description: `Keep the newest ${props.keepTaggedImages ?? 30} tagged images`,
            selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: props.keepTaggedImages ?? 30 },
            action: { type: "expire" },
          },
        ],
      }),
    });
  }
}
