import { LocalIotJobs, type CreateJobRequest, type JobsReply } from "../../local/iot-jobs";
import { IotRegistry } from "../../local/iot-registry";

/**
 * The local IoT Jobs' rules without MQTT: CreateJob's validation, target resolution, timers, abort
 * criteria, cancel and presign substitution. The MQTT side is test/local/iot-jobs.test.ts.
 */
const MINUTE_MS = 200;
const GROUP = "smarthome-dev-devices";
let registry: IotRegistry;
let jobs: LocalIotJobs;
let pushes: { topic: string; payload: Record<string, any> }[];
let presigned: { s3Url: string; expiresInSec: number }[];

beforeEach(() => {
  registry = new IotRegistry("123456789012", "eu-west-1");
  for (const name of ["thing-a", "thing-b", "thing-c", "thing-d", "loner"]) {
    registry.things.set(name, { thingName: name, groups: name === "loner" ? [] : [GROUP], attributes: {}, principals: new Set() });
  }
  pushes = [];
  presigned = [];
  jobs = new LocalIotJobs({
    registry,
    publish: (topic, payload) => void pushes.push({ topic, payload }),
    presign: (s3Url, expiresInSec) => {
      presigned.push({ s3Url, expiresInSec });
      return `https://localhost:1/signed?for=${encodeURIComponent(s3Url)}`;
    },
    minuteMs: MINUTE_MS,
  });
});

afterEach(() => jobs.close());

const accepted = (reply: JobsReply) => {
  if (!("accepted" in reply)) throw new Error(`rejected: ${JSON.stringify(reply.rejected)}`);
  return reply.accepted as Record<string, any>;
};
const rejectedCode = (reply: JobsReply) => ("rejected" in reply ? reply.rejected.code : "accepted");
const sleep = (ms: number) => new Promise((resume) => setTimeout(resume, ms));
/** Timers may fire late on a loaded machine, never early: wait for what must happen, sleep before what must not yet have. */
const until = async (condition: () => boolean, timeoutMs = 10 * MINUTE_MS) => {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error("timed out");
    await sleep(5);
  }
  return Date.now() - started;
};
const statusOf = (jobId: string) => jobs.listJobExecutions(jobId)[0]!.status;
const valid: CreateJobRequest = { jobId: "job-1", targets: ["thing-a"], document: { operation: "noop" } };

describe("createJob", () => {
  it("refuses bad input with a clear error and creates nothing", () => {
    const cases: [Partial<CreateJobRequest> & Record<string, unknown>, RegExp][] = [
      [{ jobId: "has space" }, /jobId must match/],
      [{ jobId: "x".repeat(65) }, /jobId must match/],
      [{ document: "not json" }, /not JSON/],
      [{ document: "[1]" }, /must be a JSON object/],
      [{ document: { blob: "x".repeat(32_768) } }, /at most 32768/],
      [{ rollout: { maximumPerMinute: 0 } }, /maximumPerMinute/],
      [{ rollout: { maximumPerMinute: 1001 } }, /maximumPerMinute/],
      [{ abort: { criteriaList: [{ failureType: "FAILED", action: "STOP" as "CANCEL", thresholdPercentage: 10, minNumberOfExecutedThings: 1 }] } }, /CANCEL/],
      [{ abort: { criteriaList: [{ failureType: "SUCCEEDED" as "FAILED", action: "CANCEL", thresholdPercentage: 10, minNumberOfExecutedThings: 1 }] } }, /failureType/],
      [{ abort: { criteriaList: [{ failureType: "FAILED", action: "CANCEL", thresholdPercentage: 10.999, minNumberOfExecutedThings: 1 }] } }, /two decimals/],
      [{ abort: { criteriaList: [{ failureType: "FAILED", action: "CANCEL", thresholdPercentage: 101, minNumberOfExecutedThings: 1 }] } }, /0-100/],
      [{ abort: { criteriaList: [{ failureType: "FAILED", action: "CANCEL", thresholdPercentage: 10, minNumberOfExecutedThings: 0 }] } }, /minNumberOfExecutedThings/],
      [{ timeoutInMinutes: 0 }, /timeoutInMinutes/],
      [{ presignedUrlExpiresInSec: 59 }, /presignedUrlExpiresInSec/],
      [{ targets: [] }, /at least one target/],
      [{ targets: ["nobody"] }, /neither a thing nor a thing group/],
      [{ targets: ["arn:aws:iot:eu-west-1:123456789012:thing/nobody"] }, /no thing nobody/],
      [{ targets: ["arn:aws:iot:us-east-1:123456789012:thing/thing-a"] }, /not in this account and region/],
    ];
    for (const [change, message] of cases) {
      expect(() => jobs.createJob({ ...valid, ...change } as CreateJobRequest)).toThrow(message);
      expect(() => jobs.describeJob((change.jobId as string | undefined) ?? valid.jobId)).toThrow(/ResourceNotFoundException/);
    }
    expect(cases).toHaveLength(18);
    expect(pushes).toEqual([]);
  });

  it("refuses a second job with the same id", () => {
    jobs.createJob(valid);
    expect(() => jobs.createJob(valid)).toThrow(/already exists/);
  });

  it("resolves thing and thing-group ARNs and plain names once, each thing once", () => {
    const { jobArn } = jobs.createJob({
      ...valid,
      targets: ["arn:aws:iot:eu-west-1:123456789012:thinggroup/smarthome-dev-devices", "arn:aws:iot:eu-west-1:123456789012:thing/loner", "thing-a", GROUP],
    });
    expect(jobArn).toBe("arn:aws:iot:eu-west-1:123456789012:job/job-1");
    expect(jobs.describeJob("job-1").targetThings).toEqual(["thing-a", "thing-b", "thing-c", "thing-d", "loner"]);
    // A thing that joins the group later is not a target (SNAPSHOT).
    registry.things.set("thing-e", { thingName: "thing-e", groups: [GROUP], attributes: {}, principals: new Set() });
    expect(jobs.listJobExecutions("job-1").map((execution) => execution.thingName)).not.toContain("thing-e");
  });
});

describe("device side", () => {
  it("replaces each presign placeholder with a URL valid for the job's presignedUrlExpiresInSec when the document is fetched", () => {
    const s3Url = "https://s3.eu-west-1.amazonaws.com/releases/agent/2.0.0/a.tar.gz";
    jobs.createJob({ ...valid, document: { operation: "agent-update", url: `\${aws:iot:s3-presigned-url:${s3Url}}` }, presignedUrlExpiresInSec: 120 });
    const execution = accepted(jobs.startNextPendingJobExecution("thing-a", {})).execution;
    expect(execution.jobDocument).toEqual({ operation: "agent-update", url: `https://localhost:1/signed?for=${encodeURIComponent(s3Url)}` });
    expect(presigned.at(-1)).toEqual({ s3Url, expiresInSec: 120 });
    // The stored document keeps the placeholder.
    expect(jobs.describeJob("job-1").document).toContain("${aws:iot:s3-presigned-url:");
  });

  it("pushes notify when the pending list changes and notify-next only when the next execution changes", () => {
    jobs.createJob({ ...valid, jobId: "first" });
    jobs.createJob({ ...valid, jobId: "second" });
    const topics = pushes.map((push) => push.topic.replace("$aws/things/thing-a/jobs/", ""));
    expect(topics).toEqual(["notify", "notify-next", "notify"]); // second job queued behind the first: next unchanged
    expect(pushes[2]!.payload.jobs.QUEUED.map((job: { jobId: string }) => job.jobId)).toEqual(["first", "second"]);
    pushes.length = 0;
    accepted(jobs.updateJobExecution("thing-a", "second", { status: "IN_PROGRESS" })); // an IN_PROGRESS execution comes first
    expect(pushes.map((push) => [push.topic.split("/").pop(), push.payload.execution?.jobId])).toEqual([["notify-next", "second"]]);
    pushes.length = 0;
    accepted(jobs.updateJobExecution("thing-a", "second", { status: "IN_PROGRESS", statusDetails: { step: "2" } })); // details only
    expect(pushes).toEqual([]);
  });

  it("a request that fails validation changes nothing", () => {
    jobs.createJob(valid);
    for (const request of [{ status: "IN_PROGRESS", statusDetails: Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, "v"])) }, { status: "IN_PROGRESS", stepTimeoutInMinutes: 0 }, { status: "IN_PROGRESS", expectedVersion: -1 }, { status: "IN_PROGRESS", statusDetails: { k: "line\nbreak" } }]) {
      expect(rejectedCode(jobs.updateJobExecution("thing-a", "job-1", request))).toBe("InvalidRequest");
    }
    expect(jobs.listJobExecutions("job-1")).toEqual([expect.objectContaining({ status: "QUEUED", versionNumber: 1, statusDetails: {} })]);
  });
});

describe("timers", () => {
  it("the in-progress timer turns an execution TIMED_OUT after timeoutInMinutes job minutes", async () => {
    jobs.createJob({ ...valid, timeoutInMinutes: 2 });
    accepted(jobs.startNextPendingJobExecution("thing-a", {}));
    const started = Date.now();
    await sleep(1.5 * MINUTE_MS);
    expect(statusOf("job-1")).toBe("IN_PROGRESS");
    await until(() => statusOf("job-1") === "TIMED_OUT");
    expect(Date.now() - started).toBeGreaterThanOrEqual(2 * MINUTE_MS - 5);
    expect(jobs.listJobExecutions("job-1")[0]).toMatchObject({ status: "TIMED_OUT", versionNumber: 3 });
    expect(rejectedCode(jobs.updateJobExecution("thing-a", "job-1", { status: "SUCCEEDED" }))).toBe("InvalidStateTransition");
    expect(jobs.describeJob("job-1").status).toBe("COMPLETED");
  });

  it("a step timer replaces the previous one, -1 discards it, and none outlasts the in-progress timer", async () => {
    jobs.createJob({ ...valid, timeoutInMinutes: 5 });
    accepted(jobs.startNextPendingJobExecution("thing-a", { stepTimeoutInMinutes: 1 }));
    accepted(jobs.updateJobExecution("thing-a", "job-1", { status: "IN_PROGRESS", stepTimeoutInMinutes: 3 }));
    await sleep(2 * MINUTE_MS);
    expect(statusOf("job-1")).toBe("IN_PROGRESS"); // the 1-minute step timer was replaced
    accepted(jobs.updateJobExecution("thing-a", "job-1", { status: "IN_PROGRESS", stepTimeoutInMinutes: -1 }));
    await sleep(2 * MINUTE_MS);
    expect(statusOf("job-1")).toBe("IN_PROGRESS"); // discarded: only the in-progress timer (5) runs
    accepted(jobs.updateJobExecution("thing-a", "job-1", { status: "IN_PROGRESS", stepTimeoutInMinutes: 60 }));
    await until(() => statusOf("job-1") === "TIMED_OUT"); // capped at the in-progress timer's end, not 60 minutes
  });
});

describe("abort and cancel", () => {
  it("TIMED_OUT and ALL criteria count their failure types among completed executions, in order", async () => {
    jobs.createJob({
      ...valid,
      targets: [GROUP],
      timeoutInMinutes: 1,
      abort: {
        criteriaList: [
          { failureType: "TIMED_OUT", action: "CANCEL", thresholdPercentage: 100, minNumberOfExecutedThings: 2 },
          { failureType: "ALL", action: "CANCEL", thresholdPercentage: 66.66, minNumberOfExecutedThings: 3 },
        ],
      },
    });
    accepted(jobs.startNextPendingJobExecution("thing-a", {}));
    accepted(jobs.updateJobExecution("thing-b", "job-1", { status: "REJECTED" }));
    accepted(jobs.updateJobExecution("thing-c", "job-1", { status: "SUCCEEDED" }));
    expect(jobs.describeJob("job-1").status).toBe("IN_PROGRESS"); // 1 of 2 completed failed: 50 %
    await until(() => jobs.describeJob("job-1").status !== "IN_PROGRESS"); // thing-a times out: 2 of 3 failed (66.7 %)
    const job = jobs.describeJob("job-1");
    expect(job).toMatchObject({ status: "CANCELED", reasonCode: "ABORTED", jobProcessDetails: { numberOfTimedOutThings: 1, numberOfRejectedThings: 1, numberOfSucceededThings: 1, numberOfCanceledThings: 1 } });
    expect(job.comment).toMatch(/2 of 3 completed executions ALL/);
  });

  it("an abort stops the rollout: things not yet notified never get the job", async () => {
    jobs.createJob({
      ...valid,
      targets: [GROUP],
      rollout: { maximumPerMinute: 2 },
      abort: { criteriaList: [{ failureType: "FAILED", action: "CANCEL", thresholdPercentage: 50, minNumberOfExecutedThings: 1 }] },
    });
    expect(jobs.listJobExecutions("job-1").map((execution) => execution.thingName)).toEqual(["thing-a", "thing-b"]);
    accepted(jobs.updateJobExecution("thing-a", "job-1", { status: "FAILED" }));
    expect(jobs.describeJob("job-1")).toMatchObject({ status: "CANCELED", reasonCode: "ABORTED" });
    await sleep(2.5 * MINUTE_MS);
    expect(jobs.listJobExecutions("job-1").map((execution) => [execution.thingName, execution.status])).toEqual([
      ["thing-a", "FAILED"],
      ["thing-b", "CANCELED"],
    ]);
    expect(accepted(jobs.startNextPendingJobExecution("thing-c", {}))).not.toHaveProperty("execution");
  });

  it("cancelJob cancels QUEUED executions, IN_PROGRESS ones only with force, and stops the rollout", () => {
    jobs.createJob({ ...valid, targets: [GROUP], rollout: { maximumPerMinute: 2 } });
    accepted(jobs.startNextPendingJobExecution("thing-a", {}));
    jobs.cancelJob("job-1", { comment: "bad release" });
    expect(jobs.listJobExecutions("job-1").map((execution) => execution.status)).toEqual(["IN_PROGRESS", "CANCELED"]);
    expect(jobs.describeJob("job-1")).toMatchObject({ status: "CANCELED", comment: "bad release", numberOfNotifiedThings: 2 });
    jobs.cancelJob("job-1", { force: true });
    expect(jobs.listJobExecutions("job-1").map((execution) => execution.status)).toEqual(["CANCELED", "CANCELED"]);
    expect(accepted(jobs.getPendingJobExecutions("thing-a", {}))).toMatchObject({ inProgressJobs: [], queuedJobs: [] });
  });

  it("refuses to cancel a COMPLETED job", () => {
    jobs.createJob(valid);
    accepted(jobs.updateJobExecution("thing-a", "job-1", { status: "SUCCEEDED" }));
    expect(() => jobs.cancelJob("job-1")).toThrow(/COMPLETED/);
    expect(() => jobs.cancelJob("no-such-job")).toThrow(/ResourceNotFoundException/);
  });
});
