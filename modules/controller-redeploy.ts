import { Resource } from "@cdktf/provider-null/lib/resource";
import { AssetType, TerraformAsset } from "cdktf";
import { Construct } from "constructs";
import { join } from "node:path";

const DEPLOY_DIRECTORY = join(__dirname, "..", "controller", "deploy");
/** Runs on the instance: lock, pull, stop, run, health check, rollback. */
export const REDEPLOY_SCRIPT = join(DEPLOY_DIRECTORY, "redeploy.sh");
/** Runs where Terraform runs: one-time key, EC2 Instance Connect tunnel, ssh. */
export const SSH_REDEPLOY_SCRIPT = join(DEPLOY_DIRECTORY, "ssh-redeploy.sh");

export interface ControllerRedeployProps {
  readonly instanceId: string;
  /** Registry URL of the controller repository (no tag). */
  readonly repositoryUrl: string;
  /** The tag to run; a change (and only a change) runs the redeploy. */
  readonly imageTag: string;
  readonly region: string;
  /** User the one-time key is pushed for (the deploy role may push keys for ec2-user only). @default ec2-user */
  readonly osUser?: string;
}

/**
 * A `null_resource` whose triggers are the image and the instance: when
 * `cdktf deploy ec2` changes the tag (or replaces the instance), Terraform replaces it and its
 * local-exec runs redeploy.sh on the instance over EC2 Instance Connect; with the same values it
 * plans no change and runs nothing. So Terraform state records which image runs. A failed
 * redeploy fails the apply and taints the resource, so the next apply tries again.
 */
export class ControllerRedeploy extends Construct {
  readonly resource: Resource;

  constructor(scope: Construct, id: string, props: ControllerRedeployProps) {
    super(scope, id);
    // Assets: the scripts travel with the synthesized stack (cdktf.out/stacks/<stack>/assets/…).
    const remote = new TerraformAsset(this, "redeploy-script", { path: REDEPLOY_SCRIPT, type: AssetType.FILE });
    const local = new TerraformAsset(this, "ssh-redeploy-script", { path: SSH_REDEPLOY_SCRIPT, type: AssetType.FILE });
    const image = `${props.repositoryUrl}:${props.imageTag}`;
    this.resource = new Resource(this, "redeploy", {
      // Keyed on the image tag (and the instance: a new instance gets the image too).
      triggers: { image, instance_id: props.instanceId },
      provisioners: [
        {
          type: "local-exec",
          interpreter: ["bash", "-c"],
          command: `bash "${local.path}"`,
          environment: {
            INSTANCE_ID: props.instanceId,
            IMAGE: image,
            REDEPLOY_SCRIPT: remote.path,
            AWS_REGION: props.region,
            OS_USER: props.osUser ?? "ec2-user",
          },
        },
      ],
    });
  }
}
