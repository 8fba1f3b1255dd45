import { jobsTopics } from "../contracts/topics";
import type { ReservedTopicApi, ReservedTopicReply } from "./iot-broker";
import type { JobsReply, LocalIotJobs } from "./iot-jobs";

/**
 * The Jobs device MQTT API on the local broker: a request published to
 * `$aws/things/<thing>/jobs/{get | start-next | <jobId>/get | <jobId>/update}` is answered on
 * `<request topic>/accepted` or `/rejected`, to the publishing connection only (IOT23:jobs-mqtt-api:
 * "the message broker will publish response message topics to the client that published the command
 * message whether your client has subscribed to the response message topics or not"). The policy
 * decides first, so a device can only ask about its own thing.
 */
const JOBS_REQUEST = /^\$aws\/things\/([^/]+)\/jobs\/(.+)$/;
/** Topics the service publishes, never requests. */
const SERVICE_TOPIC = /\/(accepted|rejected|notify|notify-next)$/;

export function jobsMqttApi(jobs: LocalIotJobs): ReservedTopicApi {
  return {
    handles: (topic) => JOBS_REQUEST.test(topic) && !SERVICE_TOPIC.test(topic),
    answer({ topic, payload }) {
      const [, thingName, operation] = JOBS_REQUEST.exec(topic)!;
      const own = jobsTopics(thingName!);
      const request = parseRequest(payload);
      if ("invalid" in request) return [replyMessage(own, topic, { rejected: { code: "InvalidJson", message: request.invalid } }, {})];
      const reply = (() => {
        if (topic === own.getPending) return jobs.getPendingJobExecutions(thingName!, request.body);
        if (topic === own.startNext) return jobs.startNextPendingJobExecution(thingName!, request.body);
        const [jobId, action, ...rest] = operation!.split("/");
        if (rest.length === 0 && jobId && topic === own.describe(jobId) && action === "get") return jobs.describeJobExecution(thingName!, jobId, request.body);
        if (rest.length === 0 && jobId && topic === own.update(jobId) && action === "update" && jobId !== "$next") return jobs.updateJobExecution(thingName!, jobId, request.body);
        return { rejected: { code: "InvalidTopic" as const, message: `${topic} is no Jobs API request` } };
      })();
      return [replyMessage(own, topic, reply, request.body)];
    },
  };
}

function parseRequest(payload: Buffer): { body: Record<string, unknown> } | { invalid: string } {
  if (payload.length === 0) return { body: {} };
  try {
    const parsed = JSON.parse(payload.toString("utf8"));
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) return { body: parsed as Record<string, unknown> };
  } catch {
    // answered below
  }
  return { invalid: "the request payload is not a UTF-8 JSON object" };
}

/** The reply's topic and payload; a rejection carries {code, message, clientToken, timestamp, executionState?}. */
function replyMessage(own: ReturnType<typeof jobsTopics>, topic: string, reply: JobsReply, request: Record<string, unknown>): ReservedTopicReply {
  if ("accepted" in reply) return { topic: own.accepted(topic), payload: reply.accepted };
  return {
    topic: own.rejected(topic),
    payload: {
      ...reply.rejected,
      ...(typeof request.clientToken === "string" ? { clientToken: request.clientToken } : {}),
      timestamp: Math.floor(Date.now() / 1000),
    },
  };
}
