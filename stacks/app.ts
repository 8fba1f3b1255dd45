import type { Construct } from "constructs";
import type { EnvironmentConfig } from "../config";
import type { TopicRulesDefinition } from "../contracts/topic-rules";
import { ConnectStack } from "./connect";
import { Ec2Stack } from "./ec2";
import { ApiStack } from "./api";
import { EcrStack } from "./ecr";
import { bundleAllFunctions } from "./functions";
import { IotStack } from "./iot";
import { IotFleetStack } from "./iot-fleet";
import { RolesStack } from "./roles";
import { StateStack } from "./state";
import { VpcStack } from "./vpc";

export interface BuildStacksOptions {
  /** The topic rules, given to the `roles` and `iot` stacks alike. @default deviceTopicRules */
  readonly topicRules?: TopicRulesDefinition;
}

/** Every stack of one environment, in the user's deployment order. */
export function buildStacks(scope: Construct, config: EnvironmentConfig, options: BuildStacksOptions = {}) {
  bundleAllFunctions();
  const state = new StateStack(scope, config);
  const vpc = new VpcStack(scope, config);
  const connect = new ConnectStack(scope, config, vpc);
  const roles = new RolesStack(scope, config, { topicRules: options.topicRules });
  const ecr = new EcrStack(scope, config);
  const ec2 = new Ec2Stack(scope, config, { vpc, roles, ecr });
  const iot = new IotStack(scope, config, { roles }, { topicRules: options.topicRules });
  const fleet = new IotFleetStack(scope, config, { iot, roles });
  const api = new ApiStack(scope, config, { fleet });
  return { state, vpc, connect, roles, ecr, ec2, iot, "iot-fleet": fleet, api };
}
