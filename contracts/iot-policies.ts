import { anyDeviceTopicFilter, anyDeviceTopicPattern, deviceTopics, fleetProvisioningTopics, jobsTopics } from "./topics";

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

/**
 * A device's own IoT Jobs topics (the Jobs device MQTT API, for over-the-air agent updates;
 * reference/iot-jobs-sessions-delivery.md §1). It publishes only its requests (get, start-next,
 * `<job>/get`, `<job>/update`; `*` is one job id or `$next`) and subscribes to and receives anything
 * under its own `$aws/things/<thing>/jobs/`: the replies (`…/accepted`, `…/rejected`, which the SDK
 * subscribes to as `…/start-next/+`, `…/<job>/update/+`) and the notify and notify-next pushes.
 *
 * One wildcard for the receiving side, not the six resources of the SDK's sample policy: an IoT
 * policy document may hold at most 2,048 characters without whitespace (CreatePolicy
 * `policyDocument`, https://docs.aws.amazon.com/iot/latest/apireference/API_CreatePolicy.html), and
 * each resource repeats the ARN prefix and `${iot:Connection.Thing.ThingName}`; the precise list
 * made the device policy 2,531 characters. Every resource still names the connection's own thing,
 * so a device can neither read nor change another thing's jobs.
 */
export function deviceJobsTopics(thingName: string): { publish: string[]; receive: string[] } {
  const jobs = jobsTopics(thingName);
  return {
    publish: [jobs.getPending, jobs.startNext, jobs.describe("*"), jobs.update("*")],
    receive: [`${jobs.root}/*`],
  };
}

/** A provisioned device: its own command topic in, its own responses and errors out, its own Jobs topics. Nothing else. */
export function devicePolicyDocument({ arnPrefix, topicRoot }: IotPolicyScope): IotPolicyDocument {
  const own = deviceTopics(topicRoot);
  const jobs = deviceJobsTopics(THING_NAME_VARIABLE);
  return {
    Version: "2012-10-17",
    Statement: [
      { Effect: "Allow", Action: ["iot:Connect"], Resource: [`${arnPrefix}client/${THING_NAME_VARIABLE}`], Condition: attachedThingOnly },
      {
        Effect: "Allow",
        Action: ["iot:Subscribe"],
        Resource: [`${arnPrefix}topicfilter/${own.commands(THING_NAME_VARIABLE)}`, ...jobs.receive.map((topic) => `${arnPrefix}topicfilter/${topic}`)],
      },
      { Effect: "Allow", Action: ["iot:Receive"], Resource: [`${arnPrefix}topic/${own.commands(THING_NAME_VARIABLE)}`, ...jobs.receive.map((topic) => `${arnPrefix}topic/${topic}`)] },
      {
        Effect: "Allow",
        Action: ["iot:Publish"],
        Resource: [
          `${arnPrefix}topic/${own.responses(THING_NAME_VARIABLE)}`,
          `${arnPrefix}topic/${own.errors(THING_NAME_VARIABLE)}`,
          ...jobs.publish.map((topic) => `${arnPrefix}topic/${topic}`),
        ],
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
