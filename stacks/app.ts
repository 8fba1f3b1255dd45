import type { Construct } from "constructs";
import type { EnvironmentConfig } from "../config";
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

/** Every stack of one environment, in the user's deployment order. */
export function buildStacks(scope: Construct, config: EnvironmentConfig) {
  bundleAllFunctions();
  const state = new StateStack(scope, config);
  const vpc = new VpcStack(scope, config);
  const connect = new ConnectStack(scope, config, vpc);
  const roles = new RolesStack(scope, config);
  const ecr = new EcrStack(scope, config);
  const ec2 = new Ec2Stack(scope, config, { vpc, roles, ecr });
  const iot = new IotStack(scope, config, { roles });
  const fleet = new IotFleetStack(scope, config, { iot, roles });
  const api = new ApiStack(scope, config, { fleet });
  return { state, vpc, connect, roles, ecr, ec2, iot, "iot-fleet": fleet, api };
}
