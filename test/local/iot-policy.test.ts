import { devicePolicyDocument, type IotPolicyDocument } from "../../contracts/iot-policies";
import { deviceTopics, fleetProvisioningTopics, jobsTopics } from "../../contracts/topics";
import { evaluate, wildcardMatch, type ConnectionContext, type IotAction } from "../../local/iot-policy";
import { resources, synthAll } from "../helpers/synth";

/**
 * The local stand-in's policy evaluation, over the very IoT policies the iot and iot-fleet stacks
 * synthesize (as IoT receives them once Terraform has filled in partition and account).
 */
const ARN = "arn:aws:iot:eu-west-1:123456789012:";

function synthesizedPolicy(stack: "iot" | "iot-fleet", name: string): IotPolicyDocument {
  const policy = Object.values(resources(synthAll()[stack], "aws_iot_policy")).find((p) => p.name === name);
  const text = (policy.policy as string)
    .replace(/arn:\$\{data\.aws_partition\.[^}]+\}:iot:eu-west-1:\$\{data\.aws_caller_identity\.[^}]+\}:/g, ARN)
    .replace(/\$\$\{/g, "${");
  return JSON.parse(text) as IotPolicyDocument;
}

const device = synthesizedPolicy("iot", "smarthome-dev-device");
const controller = synthesizedPolicy("iot", "smarthome-dev-controller");
const claim = synthesizedPolicy("iot-fleet", "smarthome-dev-claim");
const topics = deviceTopics("smarthome/dev");

const deviceA: ConnectionContext = { clientId: "smarthome-dev-SN1", thingName: "smarthome-dev-SN1" };
const ask = (policy: IotPolicyDocument, connection: ConnectionContext, action: IotAction, resource: string) =>
  evaluate([policy], { action, resource: `${ARN}${resource}`, connection });

describe("local IoT policy evaluation", () => {
  describe("device policy", () => {
    it("connects only with a client id equal to its attached thing's name", () => {
      expect(ask(device, deviceA, "iot:Connect", "client/smarthome-dev-SN1")).toBe("Allow");
      expect(ask(device, { clientId: "smarthome-dev-SN1" }, "iot:Connect", "client/smarthome-dev-SN1")).toBe("Deny");
      expect(ask(device, { clientId: "other", thingName: undefined }, "iot:Connect", "client/other")).toBe("Deny");
    });

    it("subscribes to and receives its own commands, not another device's", () => {
      expect(ask(device, deviceA, "iot:Subscribe", `topicfilter/${topics.commands("smarthome-dev-SN1")}`)).toBe("Allow");
      expect(ask(device, deviceA, "iot:Receive", `topic/${topics.commands("smarthome-dev-SN1")}`)).toBe("Allow");
      expect(ask(device, deviceA, "iot:Subscribe", `topicfilter/${topics.commands("smarthome-dev-SN2")}`)).toBe("Deny");
      expect(ask(device, deviceA, "iot:Receive", `topic/${topics.commands("smarthome-dev-SN2")}`)).toBe("Deny");
      expect(ask(device, deviceA, "iot:Subscribe", `topicfilter/${topics.commands("+")}`)).toBe("Deny");
      expect(ask(device, deviceA, "iot:Subscribe", "topicfilter/smarthome/dev/devices/#")).toBe("Deny");
    });

    it("publishes its own responses and errors, never on another device's behalf, never commands", () => {
      expect(ask(device, deviceA, "iot:Publish", `topic/${topics.responses("smarthome-dev-SN1")}`)).toBe("Allow");
      expect(ask(device, deviceA, "iot:Publish", `topic/${topics.errors("smarthome-dev-SN1")}`)).toBe("Allow");
      expect(ask(device, deviceA, "iot:Publish", `topic/${topics.responses("smarthome-dev-SN2")}`)).toBe("Deny");
      expect(ask(device, deviceA, "iot:Publish", `topic/${topics.commands("smarthome-dev-SN1")}`)).toBe("Deny");
    });
  });

  describe("device policy: IoT Jobs", () => {
    const own = jobsTopics("smarthome-dev-SN1");
    const other = jobsTopics("smarthome-dev-SN2");
    const requests = (jobs: typeof own) => [jobs.getPending, jobs.startNext, jobs.describe("$next"), jobs.describe("agent-2_0_0-1"), jobs.update("agent-2_0_0-1")];
    const pushesAndReplies = (jobs: typeof own) => [
      jobs.notify,
      jobs.notifyNext,
      ...requests(jobs).flatMap((request) => [jobs.accepted(request), jobs.rejected(request)]),
    ];

    it("publishes its own Jobs requests, subscribes to and receives its own replies and pushes", () => {
      const allowed = [
        ...requests(own).map((topic) => ask(device, deviceA, "iot:Publish", `topic/${topic}`)),
        ...pushesAndReplies(own).map((topic) => ask(device, deviceA, "iot:Receive", `topic/${topic}`)),
        ...pushesAndReplies(own).map((topic) => ask(device, deviceA, "iot:Subscribe", `topicfilter/${topic}`)),
        // The SDK's Jobs client subscribes with + for the reply kind.
        ...[`${own.startNext}/+`, `${own.update("agent-2_0_0-1")}/+`, `${own.describe("$next")}/+`, `${own.getPending}/+`].map((filter) => ask(device, deviceA, "iot:Subscribe", `topicfilter/${filter}`)),
      ];
      expect(allowed).toEqual(Array(5 + 12 + 12 + 4).fill("Allow"));
    });

    it("never another thing's Jobs topics, nor publishes as the Jobs service", () => {
      const denied = [
        ...requests(other).map((topic) => ask(device, deviceA, "iot:Publish", `topic/${topic}`)),
        ...pushesAndReplies(other).map((topic) => ask(device, deviceA, "iot:Receive", `topic/${topic}`)),
        ...pushesAndReplies(other).map((topic) => ask(device, deviceA, "iot:Subscribe", `topicfilter/${topic}`)),
        ask(device, deviceA, "iot:Subscribe", "topicfilter/$aws/things/+/jobs/notify-next"),
        ask(device, deviceA, "iot:Subscribe", "topicfilter/$aws/things/#"),
        ...[own.notify, own.notifyNext, own.accepted(own.startNext), own.rejected(own.update("agent-2_0_0-1"))].map((topic) => ask(device, deviceA, "iot:Publish", `topic/${topic}`)),
      ];
      expect(denied).toEqual(Array(5 + 12 + 12 + 2 + 4).fill("Deny"));
    });

    it("fits IoT's 2,048-character policy limit (whitespace excluded) with a long partition and region", () => {
      const document = devicePolicyDocument({ arnPrefix: "arn:aws-us-gov:iot:ap-southeast-2:123456789012:", topicRoot: "smarthome/production-eu" });
      expect(JSON.stringify(document).replace(/\s/g, "").length).toBeLessThanOrEqual(2048);
    });
  });

  describe("controller policy", () => {
    const controllerConnection = { clientId: "smarthome-dev-controller", thingName: "smarthome-dev-controller" };
    it("publishes commands to any device, subscribes to every device's responses and errors", () => {
      expect(ask(controller, controllerConnection, "iot:Connect", "client/smarthome-dev-controller")).toBe("Allow");
      expect(ask(controller, controllerConnection, "iot:Publish", `topic/${topics.commands("smarthome-dev-SN7")}`)).toBe("Allow");
      expect(ask(controller, controllerConnection, "iot:Subscribe", `topicfilter/${topics.responses("+")}`)).toBe("Allow");
      expect(ask(controller, controllerConnection, "iot:Receive", `topic/${topics.errors("smarthome-dev-SN7")}`)).toBe("Allow");
      expect(ask(controller, controllerConnection, "iot:Subscribe", "topicfilter/#")).toBe("Deny");
      expect(ask(controller, controllerConnection, "iot:Publish", `topic/${topics.responses("smarthome-dev-SN7")}`)).toBe("Deny");
    });
  });

  describe("claim policy", () => {
    const provisioning = { clientId: "provisioning-smarthome-dev-abc123" };
    it("allows only provisioning: connect with the provisioning prefix and this template's topics", () => {
      expect(ask(claim, provisioning, "iot:Connect", "client/provisioning-smarthome-dev-abc123")).toBe("Allow");
      expect(ask(claim, { clientId: "smarthome-dev-SN1" }, "iot:Connect", "client/smarthome-dev-SN1")).toBe("Deny");
      expect(ask(claim, provisioning, "iot:Publish", `topic/${fleetProvisioningTopics.createCertificateFromCsr}`)).toBe("Allow");
      expect(ask(claim, provisioning, "iot:Subscribe", `topicfilter/${fleetProvisioningTopics.registerThing("smarthome-dev-fleet")}/accepted`)).toBe("Allow");
      expect(ask(claim, provisioning, "iot:Publish", `topic/${fleetProvisioningTopics.registerThing("someone-elses-template")}`)).toBe("Deny");
      expect(ask(claim, provisioning, "iot:Subscribe", `topicfilter/${topics.commands("+")}`)).toBe("Deny");
      expect(ask(claim, provisioning, "iot:Publish", `topic/${topics.responses("smarthome-dev-SN1")}`)).toBe("Deny");
    });
  });

  it("an explicit Deny wins over an Allow", () => {
    const deny: IotPolicyDocument = { Version: "2012-10-17", Statement: [{ Effect: "Deny", Action: ["iot:Publish"], Resource: [`${ARN}topic/${topics.errors("smarthome-dev-SN1")}`] }] };
    expect(evaluate([device, deny], { action: "iot:Publish", resource: `${ARN}topic/${topics.errors("smarthome-dev-SN1")}`, connection: deviceA })).toBe("Deny");
    expect(evaluate([device, deny], { action: "iot:Publish", resource: `${ARN}topic/${topics.responses("smarthome-dev-SN1")}`, connection: deviceA })).toBe("Allow");
  });

  it("fails closed on a condition operator it does not know", () => {
    const odd: IotPolicyDocument = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: ["iot:Connect"], Resource: [`${ARN}client/*`], Condition: { DateGreaterThan: { "aws:CurrentTime": "2020-01-01" } } }] };
    expect(() => evaluate([odd], { action: "iot:Connect", resource: `${ARN}client/x`, connection: { clientId: "x" } })).toThrow(/DateGreaterThan/);
  });

  it("wildcards: * spans slashes, ? is one character, MQTT + and # are literal", () => {
    expect(wildcardMatch("topic/a/*", "topic/a/b/c")).toBe(true);
    expect(wildcardMatch("client/dev-?", "client/dev-1")).toBe(true);
    expect(wildcardMatch("client/dev-?", "client/dev-12")).toBe(false);
    expect(wildcardMatch("topicfilter/a/+/b", "topicfilter/a/x/b")).toBe(false);
    expect(wildcardMatch("topicfilter/a/#", "topicfilter/a/#")).toBe(true);
  });
});
