/**
 * MQTT topics between the controller and the devices. Nothing else in the repo spells a topic:
 * stacks build IoT and IAM policies from these, the controller and agent publish and subscribe
 * with them.
 */
export interface DeviceTopics {
  /** Controller → device: commands for one device. */
  commands(thingName: string): string;
  /** Device → controller: successful results. */
  responses(thingName: string): string;
  /** Device → controller and alerts: failures. */
  errors(thingName: string): string;
}

export type DeviceTopicKind = keyof DeviceTopics;

export function deviceTopics(topicRoot: string): DeviceTopics {
  const topic = (kind: DeviceTopicKind) => (thingName: string) => `${topicRoot}/devices/${thingName}/${kind}`;
  return { commands: topic("commands"), responses: topic("responses"), errors: topic("errors") };
}

/** The same topics with an MQTT single-level wildcard for the thing name, e.g. `…/devices/+/responses`. */
export function anyDeviceTopicFilter(topicRoot: string, kind: DeviceTopicKind): string {
  return deviceTopics(topicRoot)[kind]("+");
}

/** The same topics with the policy wildcard `*` for the thing name, for IoT and IAM policy resources. */
export function anyDeviceTopicPattern(topicRoot: string, kind: DeviceTopicKind): string {
  return deviceTopics(topicRoot)[kind]("*");
}

/** Level (1-based, as IoT SQL's `topic(n)`) of the thing name in a device topic. */
export function thingNameTopicLevel(topicRoot: string): number {
  return topicRoot.split("/").length + 2;
}

/** AWS IoT lifecycle events: `$aws/events/presence/<connected|disconnected>/<clientId>`. */
export type LifecycleEventType = "connected" | "disconnected";

export function lifecycleTopic(eventType: LifecycleEventType, clientId: string): string {
  return `$aws/events/presence/${eventType}/${clientId}`;
}

/** Every lifecycle event of every client. */
export const LIFECYCLE_TOPIC_FILTER = "$aws/events/presence/+/+";

/**
 * AWS IoT fleet provisioning MQTT API (JSON payloads). Responses come on `<request>/accepted` and
 * `<request>/rejected`, to the requesting connection only.
 */
export const fleetProvisioningTopics = {
  createKeysAndCertificate: "$aws/certificates/create/json",
  createCertificateFromCsr: "$aws/certificates/create-from-csr/json",
  registerThing: (templateName: string) => `$aws/provisioning-templates/${templateName}/provision/json`,
};

/**
 * AWS IoT Jobs device MQTT API for one thing (reference/iot-jobs-sessions-delivery.md §1; AWS IoT
 * developer guide "jobs-mqtt-api"). Requests are published to the bare topic; replies come on
 * `<request>/accepted` and `<request>/rejected` to the requesting connection only.
 */
export function jobsTopics(thingName: string) {
  const root = `$aws/things/${thingName}/jobs`;
  return {
    root,
    /** Service push: which execution is next changed. */
    notifyNext: `${root}/notify-next`,
    /** Service push: the list of pending executions changed. */
    notify: `${root}/notify`,
    /** GetPendingJobExecutions. */
    getPending: `${root}/get`,
    /** StartNextPendingJobExecution. */
    startNext: `${root}/start-next`,
    /** DescribeJobExecution (`jobId` may be `$next`). */
    describe: (jobId: string) => `${root}/${jobId}/get`,
    /** UpdateJobExecution. */
    update: (jobId: string) => `${root}/${jobId}/update`,
    accepted: (request: string) => `${request}/accepted`,
    rejected: (request: string) => `${request}/rejected`,
  };
}
