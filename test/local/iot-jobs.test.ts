import { iotjobs, mqtt } from "aws-iot-device-sdk-v2";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { get } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jobsTopics } from "../../contracts/topics";
import { openCertificateAuthority } from "../../local/certificate-authority";
import { startLocalPlatform, type LocalPlatform } from "../../local/platform";
import { connect, provision, type Credentials } from "../helpers/iot-device";
import { JobsDevice, type Received } from "../helpers/jobs-device";
import { defaultConfig } from "../helpers/synth";

/**
 * IoT Jobs on the local platform, with real MQTT clients over mutual TLS: devices provisioned by
 * claim through the real hook get the device policy the iot stack deploys, and speak the Jobs MQTT
 * API by hand. A job "minute" lasts MINUTE_MS here (LocalPlatformOptions.jobsMinuteMs).
 */
jest.setTimeout(90_000);

const MINUTE_MS = 1000;
const FLEET_GROUP = "smarthome-dev-devices";
let platform: LocalPlatform;
let stateDirectory: string;
const devices: { thingName: string; credentials: Credentials }[] = [];
const open: JobsDevice[] = [];

async function register(serials: string[]): Promise<void> {
  const response = await fetch(`${platform.api.url}/serials`, {
    method: "POST",
    headers: { "x-api-key": platform.api.key, "content-type": "application/json" },
    body: JSON.stringify({ serials }),
  });
  expect(response.status).toBe(200);
}

async function device(index: number): Promise<JobsDevice> {
  const { thingName, credentials } = devices[index]!;
  const opened = await JobsDevice.open(platform, credentials, thingName);
  open.push(opened);
  return opened;
}

/** HTTPS GET trusting only the local CA: status and body. */
function download(url: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    get(url, { ca: readFileSync(platform.mqtt.caPath, "utf8") }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks) }));
    }).on("error", reject);
  });
}

const until = async (condition: () => boolean, timeoutMs = 10_000) => {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error("timed out");
    await new Promise((resume) => setTimeout(resume, 10));
  }
};

const RELEASE = Buffer.from("agent release 2.0.0 tarball bytes");
const RELEASE_KEY = "agent/2.0.0/smart-home-agent-2.0.0-linux-arm64.tar.gz";
const document = (version: string) => ({
  operation: "agent-update",
  version,
  url: `\${aws:iot:s3-presigned-url:https://s3.eu-west-1.amazonaws.com/smarthome-dev-agent-releases/${RELEASE_KEY}}`,
  sha256: createHash("sha256").update(RELEASE).digest("hex"),
});

beforeAll(async () => {
  stateDirectory = mkdtempSync(join(tmpdir(), "local-jobs-"));
  platform = await startLocalPlatform({ config: defaultConfig, stateDirectory, jobsMinuteMs: MINUTE_MS });
  platform.releases.put(RELEASE_KEY, RELEASE);
  const serials = Array.from({ length: 24 }, (_, index) => `SN-JOBS-${String(index).padStart(2, "0")}`);
  await register(serials);
  for (const serial of serials) {
    const provisioned = await provision(platform, { serial });
    devices.push({ thingName: provisioned.thingName, credentials: provisioned });
  }
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((opened) => opened.close()));
});

afterAll(async () => {
  await platform.stop();
});

describe("device policy: each thing only its own Jobs topics (enforced by the broker)", () => {
  it("subscribes to its own notify topics and the replies, not another thing's", async () => {
    const a = await device(0);
    const other = jobsTopics(devices[1]!.thingName);
    const subscribe = async (filter: string) => (await a.connection.subscribe(filter, mqtt.QoS.AtLeastOnce)).qos;
    expect(await subscribe(a.topics.accepted(a.topics.startNext))).toBe(1);
    expect(await subscribe(`${a.topics.update("+")}/+`)).toBe(1);
    expect(await subscribe(other.notifyNext)).toBe(128);
    expect(await subscribe(`${other.root}/#`)).toBe(128);
    expect(await subscribe("$aws/things/+/jobs/notify-next")).toBe(128);
  });

  it("a publish to another thing's start-next closes the connection and reaches no Jobs API", async () => {
    const a = await device(2);
    const b = await device(3);
    const interrupted = new Promise<void>((resolve) => a.connection.on("interrupt", () => resolve()));
    await a.connection.publish(jobsTopics(b.thingName).startNext, "{}", mqtt.QoS.AtLeastOnce).catch(() => undefined);
    await interrupted;
    expect(a.received.filter((message) => message.topic.includes("/jobs/"))).toEqual([]);
  });
});

describe("job lifecycle over MQTT", () => {
  it("QUEUED → IN_PROGRESS → SUCCEEDED with versions, notify-next pushes and a presigned download", async () => {
    const a = await device(4);
    platform.jobs.createJob({ jobId: "lifecycle-1", targets: [a.thingName], document: document("2.0.0") });

    const queued = await a.waitFor((message) => message.topic === a.topics.notifyNext && message.payload.execution?.jobId === "lifecycle-1");
    expect(queued.payload.execution).toMatchObject({ jobId: "lifecycle-1", thingName: a.thingName, status: "QUEUED", versionNumber: 1, executionNumber: 1 });
    const url: string = queued.payload.execution.jobDocument.url;
    expect(url.startsWith(platform.releases.origin)).toBe(true);
    expect(await download(url)).toEqual({ status: 200, body: RELEASE });
    expect(queued.payload.execution.jobDocument).toMatchObject({ operation: "agent-update", version: "2.0.0", sha256: document("2.0.0").sha256 });

    const started = await a.startNext({ statusDetails: { step: "downloading" } });
    expect(started.outcome).toBe("accepted");
    expect(started.payload.execution).toMatchObject({ status: "IN_PROGRESS", versionNumber: 2, statusDetails: { step: "downloading" } });
    expect(typeof started.payload.timestamp).toBe("number");

    const progress = await a.update("lifecycle-1", { status: "IN_PROGRESS", expectedVersion: 2, statusDetails: { step: "installing" }, includeJobExecutionState: true });
    expect(progress).toMatchObject({ outcome: "accepted", payload: { executionState: { status: "IN_PROGRESS", versionNumber: 3, statusDetails: { step: "installing" } } } });

    const notificationsBefore = a.notifications().length;
    const from = a.received.length;
    const done = await a.update("lifecycle-1", { status: "SUCCEEDED", expectedVersion: 3, statusDetails: { version: "2.0.0" } });
    expect(done.outcome).toBe("accepted");
    // The next execution changed (there is none now): notify-next without an execution.
    const emptied = await a.waitFor((message) => message.topic === a.topics.notifyNext, from);
    expect(emptied.payload.execution).toBeUndefined();
    expect(a.notifications().length).toBe(notificationsBefore + 1);

    const again = await a.update("lifecycle-1", { status: "IN_PROGRESS" });
    expect(again).toMatchObject({ outcome: "rejected", payload: { code: "InvalidStateTransition", executionState: { status: "SUCCEEDED", versionNumber: 4 } } });
    expect(platform.jobs.describeJob("lifecycle-1")).toMatchObject({ status: "COMPLETED", jobProcessDetails: { numberOfSucceededThings: 1 } });
    expect(platform.jobs.listJobExecutions("lifecycle-1")).toEqual([expect.objectContaining({ thingName: a.thingName, status: "SUCCEEDED", versionNumber: 4, statusDetails: { version: "2.0.0" } })]);
  });

  it("notify-next moves to the next job when the current one ends; $next describes it", async () => {
    const a = await device(5);
    platform.jobs.createJob({ jobId: "next-1", targets: [a.thingName], document: { operation: "noop" } });
    platform.jobs.createJob({ jobId: "next-2", targets: [a.thingName], document: { operation: "noop" } });
    await a.waitFor((message) => message.topic === a.topics.notifyNext && message.payload.execution?.jobId === "next-1");
    expect((await a.describe("$next")).payload.execution).toMatchObject({ jobId: "next-1", status: "QUEUED" });
    const pending = await a.request(a.topics.getPending);
    expect(pending.payload.queuedJobs.map((job: { jobId: string }) => job.jobId)).toEqual(["next-1", "next-2"]);

    const from = a.received.length;
    await a.update("next-1", { status: "REJECTED", statusDetails: { reason: "unknown-operation" } });
    const moved = await a.waitFor((message) => message.topic === a.topics.notifyNext, from);
    expect(moved.payload.execution).toMatchObject({ jobId: "next-2", status: "QUEUED" });
    expect((await a.describe("$next", { includeJobDocument: false })).payload.execution).not.toHaveProperty("jobDocument");
    // A QUEUED execution may end straight away; the job is COMPLETED when every execution has.
    expect((await a.update("next-2", { status: "SUCCEEDED" })).outcome).toBe("accepted");
    expect(platform.jobs.describeJob("next-1").status).toBe("COMPLETED");
  });

  it("answers each request only to its requester, while pushes go to every permitted subscriber", async () => {
    const a = await device(6);
    const monitor = await monitorConnection();
    const seen: string[] = [];
    monitor.on("message", (topic) => void seen.push(topic));
    expect((await monitor.subscribe(`$aws/things/${a.thingName}/jobs/#`, mqtt.QoS.AtLeastOnce)).qos).toBe(1);

    platform.jobs.createJob({ jobId: "private-1", targets: [a.thingName], document: { operation: "noop" } });
    await a.waitFor((message) => message.topic === a.topics.notifyNext);
    await a.startNext();
    await a.update("private-1", { status: "SUCCEEDED" });
    await a.update("private-1", { status: "FAILED" }); // rejected
    await until(() => seen.filter((topic) => topic === a.topics.notifyNext).length === 2);
    await new Promise((resume) => setTimeout(resume, 200));
    expect(seen.filter((topic) => /\/(accepted|rejected)$/.test(topic))).toEqual([]);
    expect(seen.filter((topic) => topic.endsWith("/start-next") || topic.endsWith("/update"))).toEqual([]);
    expect(a.received.filter((message) => /\/(accepted|rejected)$/.test(message.topic))).toHaveLength(3);
    await monitor.disconnect();
  });
});

describe("rejected requests: the documented codes", () => {
  it("InvalidJson, InvalidRequest, InvalidTopic, ResourceNotFound, VersionMismatch, InvalidStateTransition, TerminalStateReached", async () => {
    const a = await device(7);
    platform.jobs.createJob({ jobId: "codes-1", targets: [a.thingName], document: { operation: "noop" } });
    await a.waitFor((message) => message.topic === a.topics.notifyNext);

    expect((await a.request(a.topics.update("codes-1"), "not json")).payload).toMatchObject({ code: "InvalidJson" });
    expect((await a.update("codes-1", {})).payload).toMatchObject({ code: "InvalidRequest" });
    expect((await a.update("codes-1", { status: "TIMED_OUT" })).payload).toMatchObject({ code: "InvalidRequest" });
    expect((await a.update("codes-1", { status: "IN_PROGRESS", statusDetails: { "bad key": "x" } })).payload).toMatchObject({ code: "InvalidRequest" });
    expect((await a.request(`${a.topics.root}/codes-1/extra/update`, {})).payload).toMatchObject({ code: "InvalidTopic" });
    expect((await a.update("no-such-job", { status: "IN_PROGRESS" })).payload).toMatchObject({ code: "ResourceNotFound" });
    expect((await a.describe("no-such-job")).payload).toMatchObject({ code: "ResourceNotFound" });

    const mismatch = await a.update("codes-1", { status: "IN_PROGRESS", expectedVersion: 7 });
    expect(mismatch).toMatchObject({ outcome: "rejected", payload: { code: "VersionMismatch", executionState: { status: "QUEUED", versionNumber: 1 } } });
    expect(typeof mismatch.payload.clientToken).toBe("string");
    expect(typeof mismatch.payload.timestamp).toBe("number");
    // Nothing changed: the execution is still QUEUED at version 1.
    expect(platform.jobs.listJobExecutions("codes-1")).toEqual([expect.objectContaining({ status: "QUEUED", versionNumber: 1 })]);

    platform.jobs.cancelJob("codes-1", { comment: "test" });
    expect(platform.jobs.listJobExecutions("codes-1")).toEqual([expect.objectContaining({ status: "CANCELED" })]);
    expect((await a.update("codes-1", { status: "IN_PROGRESS" })).payload).toMatchObject({ code: "InvalidStateTransition", executionState: { status: "CANCELED" } });
    expect((await a.describe("codes-1")).payload).toMatchObject({ code: "TerminalStateReached" });
  });
});

describe("rollout and abort", () => {
  it("notifies at most maximumPerMinute things per job minute", async () => {
    const targets = devices.slice(8, 14).map((entry) => entry.thingName);
    const created = Date.now();
    platform.jobs.createJob({ jobId: "rollout-1", targets, document: { operation: "noop" }, rollout: { maximumPerMinute: 2 } });
    const counts: { at: number; notified: number }[] = [];
    await until(() => {
      counts.push({ at: Date.now() - created, notified: platform.jobs.listJobExecutions("rollout-1").length });
      return counts.at(-1)!.notified === targets.length;
    });
    expect(counts[0]!.notified).toBe(2);
    // Never more than 2 per elapsed minute (plus the first batch at creation), and all 6 only after two minutes.
    for (const { at, notified } of counts) expect(notified).toBeLessThanOrEqual(2 * (Math.floor(at / MINUTE_MS) + 1));
    expect(counts.at(-1)!.at).toBeGreaterThanOrEqual(2 * MINUTE_MS - 50);
    expect(platform.jobs.listJobExecutions("rollout-1").map((execution) => execution.thingName)).toEqual(targets);
    expect(platform.jobs.describeJob("rollout-1").numberOfNotifiedThings).toBe(6);
    platform.jobs.cancelJob("rollout-1");
  });

  it("a device not yet reached by the rollout has nothing pending", async () => {
    const [first, second] = [await device(14), await device(15)];
    platform.jobs.createJob({ jobId: "rollout-2", targets: [first.thingName, second.thingName], document: { operation: "noop" }, rollout: { maximumPerMinute: 1 } });
    expect((await second.startNext()).payload).not.toHaveProperty("execution");
    expect((await first.startNext()).payload.execution).toMatchObject({ jobId: "rollout-2", status: "IN_PROGRESS" });
    await second.waitFor((message) => message.topic === second.topics.notifyNext && message.payload.execution?.jobId === "rollout-2", 0, 3 * MINUTE_MS);
    platform.jobs.cancelJob("rollout-2", { force: true });
    expect(platform.jobs.listJobExecutions("rollout-2").map((execution) => execution.status)).toEqual(["CANCELED", "CANCELED"]);
  });

  it("20 devices: the job is CANCELED once the failed share of completed executions reaches the threshold", async () => {
    const fleet = await Promise.all(devices.slice(0, 20).map((_, index) => device(index)));
    const from = fleet.map((member) => member.received.length);
    platform.jobs.createJob({
      jobId: "abort-1",
      targets: [FLEET_GROUP],
      document: document("2.0.0"),
      abort: { criteriaList: [{ failureType: "FAILED", action: "CANCEL", thresholdPercentage: 40, minNumberOfExecutedThings: 5 }] },
    });
    expect(platform.jobs.describeJob("abort-1").targetThings).toHaveLength(devices.length);
    await Promise.all(fleet.map((member, index) => member.waitFor((message) => message.topic === member.topics.notifyNext && message.payload.execution?.jobId === "abort-1", from[index])));

    const report = async (member: JobsDevice, status: "SUCCEEDED" | "FAILED") => {
      expect((await member.startNext()).payload.execution).toMatchObject({ jobId: "abort-1", status: "IN_PROGRESS" });
      expect((await member.update("abort-1", { status })).outcome).toBe("accepted");
    };
    // 1 of 1 completed failed (100 %), but fewer than 5 completed: no abort yet.
    await report(fleet[0]!, "FAILED");
    expect(platform.jobs.describeJob("abort-1").status).toBe("IN_PROGRESS");
    for (const member of fleet.slice(1, 4)) await report(member, "SUCCEEDED"); // 1 of 4 failed: 25 %
    // A device already IN_PROGRESS when the job aborts keeps its execution.
    expect((await fleet[5]!.startNext()).payload.execution).toMatchObject({ status: "IN_PROGRESS" });
    expect(platform.jobs.describeJob("abort-1").status).toBe("IN_PROGRESS");

    await report(fleet[4]!, "FAILED"); // 2 of 5 completed failed: 40 % → abort
    const job = platform.jobs.describeJob("abort-1");
    expect(job).toMatchObject({ status: "CANCELED", reasonCode: "ABORTED" });
    expect(job.jobProcessDetails).toMatchObject({ numberOfFailedThings: 2, numberOfSucceededThings: 3, numberOfInProgressThings: 1, numberOfQueuedThings: 0 });
    // Every other execution (14 of the fleet, 4 spare devices) was QUEUED and is now CANCELED.
    const canceled = platform.jobs.listJobExecutions("abort-1", "CANCELED");
    expect(canceled).toHaveLength(devices.length - 6);

    for (const member of fleet.slice(6)) {
      await member.waitFor((message: Received) => message.topic === member.topics.notifyNext && message.payload.execution === undefined, from[fleet.indexOf(member)]);
      expect((await member.startNext()).payload).not.toHaveProperty("execution");
      expect((await member.update("abort-1", { status: "IN_PROGRESS" })).payload).toMatchObject({ code: "InvalidStateTransition", executionState: { status: "CANCELED" } });
    }
    expect((await fleet[5]!.update("abort-1", { status: "SUCCEEDED" })).outcome).toBe("accepted");
    expect(platform.jobs.describeJob("abort-1").jobProcessDetails.numberOfSucceededThings).toBe(4);
  });
});

describe("the SDK's Jobs client (aws-iot-device-sdk-v2 iotjobs.IotJobsClient over MQTT 3.1.1)", () => {
  // The legacy client, not IotJobsClientv2: v2's native request-response client aborts the process
  // at exit (aws-crt 1.33.1, napi_release_threadsafe_function in a finalizer) unless jest runs with --forceExit.
  it("gets notify-next, starts, updates and sees a rejection as the agent's SDK does", async () => {
    const { thingName, credentials } = devices[21]!;
    const connection = await connect(platform, credentials, thingName);
    const client = new iotjobs.IotJobsClient(connection);
    const qos = mqtt.QoS.AtLeastOnce;
    try {
      const events: iotjobs.model.NextJobExecutionChangedEvent[] = [];
      const started: iotjobs.model.StartNextJobExecutionResponse[] = [];
      const updated: iotjobs.model.UpdateJobExecutionResponse[] = [];
      const rejected: iotjobs.model.RejectedErrorResponse[] = [];
      await client.subscribeToNextJobExecutionChangedEvents({ thingName }, qos, (_error, event) => void events.push(event!));
      await client.subscribeToStartNextPendingJobExecutionAccepted({ thingName }, qos, (_error, response) => void started.push(response!));
      await client.subscribeToUpdateJobExecutionAccepted({ thingName, jobId: "sdk-1" }, qos, (_error, response) => void updated.push(response!));
      await client.subscribeToUpdateJobExecutionRejected({ thingName, jobId: "sdk-1" }, qos, (_error, response) => void rejected.push(response!));

      platform.jobs.createJob({ jobId: "sdk-1", targets: [thingName], document: document("2.0.0") });
      await until(() => events.some((event) => event.execution?.jobId === "sdk-1"));
      expect(events.at(-1)!.execution!.jobDocument).toMatchObject({ operation: "agent-update", version: "2.0.0" });

      await client.publishStartNextPendingJobExecution({ thingName, statusDetails: { step: "downloading" } }, qos);
      await until(() => started.length === 1);
      expect(started[0]!.execution).toMatchObject({ jobId: "sdk-1", status: iotjobs.model.JobStatus.IN_PROGRESS, versionNumber: 2 });
      expect((await download((started[0]!.execution!.jobDocument as { url: string }).url)).body).toEqual(RELEASE);

      await client.publishUpdateJobExecution({ thingName, jobId: "sdk-1", status: iotjobs.model.JobStatus.SUCCEEDED, expectedVersion: 2, includeJobExecutionState: true }, qos);
      await until(() => updated.length === 1);
      expect(updated[0]!.executionState).toMatchObject({ status: "SUCCEEDED", versionNumber: 3 });
      await until(() => events.length >= 2 && events.at(-1)!.execution === undefined);

      await client.publishUpdateJobExecution({ thingName, jobId: "sdk-1", status: iotjobs.model.JobStatus.IN_PROGRESS }, qos);
      await until(() => rejected.length === 1);
      expect(rejected[0]).toMatchObject({ code: "InvalidStateTransition", executionState: { status: "SUCCEEDED" } });
    } finally {
      await connection.disconnect();
    }
  });
});

/** A client that may watch every thing's Jobs topics: a test identity with its own policy (no device may). */
async function monitorConnection(): Promise<mqtt.MqttClientConnection> {
  const authority = await openCertificateAuthority(join(stateDirectory, "ca"));
  const issued = await authority.issue();
  const arn = `arn:aws:iot:${platform.registry.region}:${platform.registry.accountId}:`;
  platform.registry.policies.set("test-jobs-monitor", {
    Version: "2012-10-17",
    Statement: [
      { Effect: "Allow", Action: ["iot:Connect"], Resource: [`${arn}client/test-jobs-monitor`] },
      { Effect: "Allow", Action: ["iot:Subscribe"], Resource: [`${arn}topicfilter/$aws/things/*`] },
      { Effect: "Allow", Action: ["iot:Receive"], Resource: [`${arn}topic/$aws/things/*`] },
    ],
  });
  platform.registry.addCertificate(issued.certificateId, issued.certificatePem, "ACTIVE");
  platform.registry.attachPolicy("test-jobs-monitor", issued.certificateId);
  return connect(platform, { certificatePem: issued.certificatePem, privateKeyPem: issued.privateKeyPem! }, "test-jobs-monitor");
}
