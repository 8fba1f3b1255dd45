import type { Construct } from "constructs";
import type { EnvironmentConfig } from "../config";
import { AwsAccount } from "../modules/aws-account";
import { ProjectStack } from "./project-stack";
import { StateBucket } from "../modules/state-bucket";
import { terraformRoleArns } from "./terraform-access";

/**
 * The bucket every other stack keeps its state in. Applied once, by an administrator, with local
 * state (it cannot live in the bucket it creates); see README "Bootstrap the state bucket".
 */
export class StateStack extends ProjectStack<"state"> {
  constructor(scope: Construct, config: EnvironmentConfig) {
    super(scope, "state", { config, backend: "local" });
    const account = new AwsAccount(this, "account", config.region);
    const state = new StateBucket(this, "state-bucket", {
      bucketName: config.stateBucket,
      keyAlias: this.names.stateKeyAlias,
      accountId: account.accountId,
      partition: account.partition,
      // The roles stack creates these roles later; a policy condition may name them before they exist.
      stateReaderArns: [...terraformRoleArns(this.names, account), ...(config.breakGlassAdminRoleArn ? [config.breakGlassAdminRoleArn] : [])],
    });
    this.exportOutputs({ state_bucket_name: state.bucketName, state_bucket_arn: state.bucketArn });
  }
}
