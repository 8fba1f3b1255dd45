import type { Construct } from "constructs";
import type { EnvironmentConfig } from "../config";
import { ProjectStack } from "../modules/project-stack";
import { StateBucket } from "../modules/state-bucket";

/**
 * The bucket every other stack keeps its state in. Applied once, by an administrator, with local
 * state (it cannot live in the bucket it creates); see README "Bootstrap the state bucket".
 */
export class StateStack extends ProjectStack<"state"> {
  constructor(scope: Construct, config: EnvironmentConfig) {
    super(scope, "state", { config, backend: "local" });
    const state = new StateBucket(this, "state-bucket", { bucketName: config.stateBucket });
    this.exportOutputs({ state_bucket_name: state.bucketName, state_bucket_arn: state.bucketArn });
  }
}
