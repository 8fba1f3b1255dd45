import { anyDeviceTopicFilter, anyDeviceTopicPattern, deviceTopics, fleetProvisioningTopics } from "./topics";

/**
 * AWS IoT policy documents, as plain JSON. The `iot` stack synthesizes them and the local stand-in
 * enforces the very same documents. `${iot:…}` policy variables appear literally here; the stack
 * escapes them for Terraform.
 */

export const THING_NAME_VARIABLE = "${iot:Connection.Thing.ThingName}";

export interface IotPolicyStatement {
  Effect: "Allow" | "Deny";
  Action: string[];
  Resource: string[];
  Condition?: Record<string, Record<string, string>>;
}

export interface IotPolicyDocument {
  Version: "2012-10-17";
  Statement: IotPolicyStatement[];
}

export interface IotPolicyScope {
  /** `arn:<partition>:iot:<region>:<account>:`, to which `client/…`, `topic/…` are appended. */
  readonly arnPrefix: string;
  /** contracts/names.ts `topicRoot`. */
  readonly topicRoot: string;
}

/**
 * An IoT policy as data: its name and its document for an account's IoT ARN prefix (see
 * IotPolicyScope). Stacks render it with Terraform's references; the local platform with its own account.
 */
export interface IotPolicyDescription {
  readonly policyName: string;
  document(arnPrefix: string): IotPolicyDocument;
}

/** Only certificates attached to a thing, connecting with that thing's name as client id. */
const attachedThingOnly = { Bool: { "iot:Connection.Thing.IsAttached": "true" } };

/** A provisioned device: its own command topic in, its own responses and errors out. Nothing else. */
export function devicePolicyDocument({ arnPrefix, topicRoot }: IotPolicyScope): IotPolicyDocument {
  const own = deviceTopics(topicRoot);
  return {
    Version: "2012-10-17",
    Statement: [
      { Effect: "Allow", Action: ["iot:Connect"], Resource: [`${arnPrefix}client/${THING_NAME_VARIABLE}`], Condition: attachedThingOnly },
      { Effect: "Allow", Action: ["iot:Subscribe"], Resource: [`${arnPrefix}topicfilter/${own.commands(THING_NAME_VARIABLE)}`] },
      { Effect: "Allow", Action: ["iot:Receive"], Resource: [`${arnPrefix}topic/${own.commands(THING_NAME_VARIABLE)}`] },
      {
        Effect: "Allow",
        Action: ["iot:Publish"],
        Resource: [`${arnPrefix}topic/${own.responses(THING_NAME_VARIABLE)}`, `${arnPrefix}topic/${own.errors(THING_NAME_VARIABLE)}`],
      },
    ],
  };
}

/** The controller: commands out to any device, responses and errors in from all of them. */
export function controllerPolicyDocument({ arnPrefix, topicRoot }: IotPolicyScope, controllerThing: string): IotPolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      { Effect: "Allow", Action: ["iot:Connect"], Resource: [`${arnPrefix}client/${controllerThing}`], Condition: attachedThingOnly },
      { Effect: "Allow", Action: ["iot:Publish"], Resource: [`${arnPrefix}topic/${anyDeviceTopicPattern(topicRoot, "commands")}`] },
      {
        Effect: "Allow",
        Action: ["iot:Subscribe"],
        Resource: [`${arnPrefix}topicfilter/${anyDeviceTopicFilter(topicRoot, "responses")}`, `${arnPrefix}topicfilter/${anyDeviceTopicFilter(topicRoot, "errors")}`],
      },
      {
        Effect: "Allow",
        Action: ["iot:Receive"],
        Resource: [`${arnPrefix}topic/${anyDeviceTopicPattern(topicRoot, "responses")}`, `${arnPrefix}topic/${anyDeviceTopicPattern(topicRoot, "errors")}`],
      },
    ],
  };
}

/**
 * A claim (bootstrap) certificate: connect with a provisioning client id, and use the fleet
 * provisioning topics of one template. Nothing else: no device topic, no other template.
 */
export function claimPolicyDocument({ arnPrefix }: Pick<IotPolicyScope, "arnPrefix">, templateName: string, clientIdPrefix: string): IotPolicyDocument {
  const requests = [
    fleetProvisioningTopics.createKeysAndCertificate,
    fleetProvisioningTopics.createCertificateFromCsr,
    fleetProvisioningTopics.registerThing(templateName),
  ];
  const answers = requests.flatMap((request) => [`${request}/accepted`, `${request}/rejected`]);
  return {
    Version: "2012-10-17",
    Statement: [
      { Effect: "Allow", Action: ["iot:Connect"], Resource: [`${arnPrefix}client/${clientIdPrefix}*`] },
      { Effect: "Allow", Action: ["iot:Publish"], Resource: requests.map((topic) => `${arnPrefix}topic/${topic}`) },
      { Effect: "Allow", Action: ["iot:Subscribe"], Resource: answers.map((topic) => `${arnPrefix}topicfilter/${topic}`) },
      { Effect: "Allow", Action: ["iot:Receive"], Resource: answers.map((topic) => `${arnPrefix}topic/${topic}`) },
    ],
  };
}
