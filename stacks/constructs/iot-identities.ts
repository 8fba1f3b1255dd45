import { DataAwsIotEndpoint } from "@cdktf/provider-aws/lib/data-aws-iot-endpoint";
import { Construct } from "constructs";
import { controllerPolicyDocument, devicePolicyDocument, type IotPolicyDescription } from "../../contracts/iot-policies";
import type { ProjectNames } from "../../contracts/names";
import type { AwsAccount } from "../../modules/aws-account";
import { ProjectIotPolicy } from "../../modules/iot-policy";
import { IotThingIdentity } from "../../modules/iot-thing-identity";

export interface IotIdentitiesProps {
  readonly names: ProjectNames;
  readonly account: AwsAccount;
  /** Role ARNs that may read the controller's identity secret; everyone else is denied. */
  readonly controllerSecretReaderArns: readonly string[];
}

/**
 * Who may do what on AWS IoT: the device policy (every thing to its own topics, attached at
 * provisioning), and the controller's thing, certificate and policy, stored as one secret.
 */
export class IotIdentities extends Construct {
  /** The account's `iot:Data-ATS` endpoint. */
  readonly endpointAddress: string;
  /** Both policies as data, for the local platform. */
  readonly policies: { readonly device: IotPolicyDescription; readonly controller: IotPolicyDescription };
  readonly devicePolicy: ProjectIotPolicy;
  readonly controller: IotThingIdentity;

  constructor(scope: Construct, id: string, { names, account, controllerSecretReaderArns }: IotIdentitiesProps) {
    super(scope, id);
    this.endpointAddress = new DataAwsIotEndpoint(this, "ats-endpoint", { endpointType: "iot:Data-ATS" }).endpointAddress;
    this.policies = {
      device: { policyName: names.devicePolicy, document: (arnPrefix) => devicePolicyDocument({ arnPrefix, topicRoot: names.topicRoot }) },
      controller: {
        policyName: `${names.prefix}-controller`,
        document: (arnPrefix) => controllerPolicyDocument({ arnPrefix, topicRoot: names.topicRoot }, names.controllerThing),
      },
    };
    const iotArnPrefix = account.arn("iot", "");
    this.devicePolicy = new ProjectIotPolicy(this, "device-policy", {
      policyName: this.policies.device.policyName,
      document: this.policies.device.document(iotArnPrefix),
    });
    const controllerPolicy = new ProjectIotPolicy(this, "controller-policy", {
      policyName: this.policies.controller.policyName,
      document: this.policies.controller.document(iotArnPrefix),
    });
    this.controller = new IotThingIdentity(this, "controller-identity", {
      thingName: names.controllerThing,
      policy: controllerPolicy,
      endpoint: this.endpointAddress,
      secretName: names.controllerSecret,
      readerArns: controllerSecretReaderArns,
    });
  }
}
