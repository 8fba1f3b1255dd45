import { jobsTopics } from "../contracts/topics";
import type { IotRegistry } from "./iot-registry";

/**
 * AWS IoT Jobs for the local platform: the control plane (CreateJob, DescribeJob,
 * ListJobExecutionsForJob, CancelJob) and the device side (GetPendingJobExecutions,
 * StartNextPendingJobExecution, DescribeJobExecution, UpdateJobExecution, and the notify /
 * notify-next pushes), with the status rules IoT applies. `local/iot-jobs-mqtt.ts` puts the device
 * side on the broker's reserved topics. Sources: reference/iot-jobs-sessions-delivery.md §1-2 and
 * the AWS IoT developer guide pages cited at each rule.
 *
 * Time: a job "minute" (rollout rate, in-progress and step timeouts) lasts `minuteMs`, 60,000 ms by
 * default; tests shorten it so a rollout of 20 devices does not take minutes. Timestamps in payloads
 * are seconds since the epoch, as the Jobs MQTT API documents them.
 */

export type JobExecutionStatus = "QUEUED" | "IN_PROGRESS" | "SUCCEEDED" | "FAILED" | "TIMED_OUT" | "REJECTED" | "REMOVED" | "CANCELED";
export type JobStatus = "IN_PROGRESS" | "CANCELED" | "COMPLETED";
/** The statuses a device may report (UpdateJobExecution `status`). */
const DEVICE_STATUSES: readonly JobExecutionStatus[] = ["IN_PROGRESS", "SUCCEEDED", "FAILED", "REJECTED"];
/** Terminal execution statuses (IOT23:iot-jobs-lifecycle): leaving one is an InvalidStateTransition. */
const TERMINAL: ReadonlySet<JobExecutionStatus> = new Set(["SUCCEEDED", "FAILED", "TIMED_OUT", "REJECTED", "REMOVED", "CANCELED"]);
/** Executions that count as executed for the abort criteria (CANCELED and REMOVED never ran). */
const COMPLETED: ReadonlySet<JobExecutionStatus> = new Set(["SUCCEEDED", "FAILED", "TIMED_OUT", "REJECTED"]);

export type AbortFailureType = "FAILED" | "REJECTED" | "TIMED_OUT" | "ALL";

export interface AbortCriteria {
  readonly failureType: AbortFailureType;
  /** Only CANCEL exists (APIREF:API_AbortCriteria). */
  readonly action: "CANCEL";
  /** 0-100, at most two decimals. */
  readonly thresholdPercentage: number;
  /** >= 1. */
  readonly minNumberOfExecutedThings: number;
}

export interface CreateJobRequest {
  /** `[a-zA-Z0-9_-]`, 1-64 characters. */
  readonly jobId: string;
  /**
   * Thing or thing-group ARNs (as CreateJob takes them), or plain names of a registered thing or of a
   * thing group. Resolved once, at creation (targetSelection SNAPSHOT, CreateJob's default).
   */
  readonly targets: readonly string[];
  /** The job document: a JSON object, or its text; at most 32,768 characters. */
  readonly document: string | Readonly<Record<string, unknown>>;
  /** jobExecutionsRolloutConfig. @default { maximumPerMinute: 1000 } (CreateJob's default) */
  readonly rollout?: { readonly maximumPerMinute: number };
  /** abortConfig. @default none */
  readonly abort?: { readonly criteriaList: readonly AbortCriteria[] };
  /** timeoutConfig.inProgressTimeoutInMinutes, 1-10080. @default none */
  readonly timeoutInMinutes?: number;
  /** presignedUrlConfig.expiresInSec, 60-3600. @default 3600 */
  readonly presignedUrlExpiresInSec?: number;
}

export interface JobProcessDetails {
  readonly numberOfQueuedThings: number;
  readonly numberOfInProgressThings: number;
  readonly numberOfSucceededThings: number;
  readonly numberOfFailedThings: number;
  readonly numberOfRejectedThings: number;
  readonly numberOfTimedOutThings: number;
  readonly numberOfCanceledThings: number;
  readonly numberOfRemovedThings: number;
}

export interface JobDescription {
  readonly jobId: string;
  readonly status: JobStatus;
  /** The resolved target things, in creation order. */
  readonly targetThings: readonly string[];
  readonly document: string;
  readonly createdAt: number;
  readonly completedAt?: number;
  /** Set when the job was canceled: by cancelJob (its comment), or by an abort criterion. */
  readonly comment?: string;
  readonly reasonCode?: string;
  /** Executions released to devices so far (the rollout notifies at most maximumPerMinute a minute). */
  readonly numberOfNotifiedThings: number;
  readonly jobProcessDetails: JobProcessDetails;
}

export interface JobExecutionSummaryForJob {
  readonly thingName: string;
  readonly status: JobExecutionStatus;
  readonly queuedAt: number;
  readonly startedAt?: number;
  readonly lastUpdatedAt: number;
  readonly versionNumber: number;
  readonly executionNumber: number;
  readonly statusDetails: Readonly<Record<string, string>>;
}

/** A reply of the device API: the accepted payload, or a rejection with one of the documented codes. */
export type JobsReply = { readonly accepted: Record<string, unknown> } | { readonly rejected: JobsRejection };

export type JobsErrorCode =
  | "InvalidTopic"
  | "InvalidJson"
  | "InvalidRequest"
  | "InvalidStateTransition"
  | "ResourceNotFound"
  | "VersionMismatch"
  | "InternalError"
  | "RequestThrottled"
  | "TerminalStateReached";

export interface JobsRejection {
  readonly code: JobsErrorCode;
  readonly message: string;
  /** Only for InvalidStateTransition and VersionMismatch (IOT23:jobs-api, ErrorResponse). */
  readonly executionState?: Record<string, unknown>;
}

export interface LocalIotJobsOptions {
  readonly registry: IotRegistry;
  /** Publishes a service push (notify, notify-next) to whoever subscribed, at QoS 1. */
  readonly publish: (topic: string, payload: Record<string, unknown>) => void;
  /** Turns an S3 object URL of a presign placeholder into a download URL valid for expiresInSec. */
  readonly presign: (s3Url: string, expiresInSec: number) => string;
  /** How long a job "minute" lasts. @default 60000 */
  readonly minuteMs?: number;
}

interface Job {
  readonly jobId: string;
  status: JobStatus;
  readonly targetThings: readonly string[];
  readonly document: string;
  readonly createdAt: number;
  completedAt?: number;
  comment?: string;
  reasonCode?: string;
  readonly maximumPerMinute: number;
  readonly abortCriteria: readonly AbortCriteria[];
  readonly timeoutInMinutes?: number;
  readonly presignedUrlExpiresInSec: number;
  /** Targets whose execution the rollout has not created yet. */
  readonly awaitingRollout: string[];
  rolloutTimer?: NodeJS.Timeout;
}

interface Execution {
  readonly job: Job;
  readonly thingName: string;
  status: JobExecutionStatus;
  statusDetails: Record<string, string>;
  readonly queuedAt: number;
  startedAt?: number;
  lastUpdatedAt: number;
  versionNumber: number;
  readonly executionNumber: number;
  /** Absolute time (ms) the in-progress timer ends, set once when the execution starts. */
  inProgressDeadline?: number;
  timeoutTimer?: NodeJS.Timeout;
  /** Order of creation, so that "next" is stable for executions queued in the same second. */
  readonly sequence: number;
}

/** `${aws:iot:s3-presigned-url:<url>}`, the job document placeholder IoT replaces (IOT23:create-manage-jobs). */
const PRESIGN_PLACEHOLDER = /\$\{aws:iot:s3-presigned-url:([^}]+)\}/g;
const JOB_ID = /^[a-zA-Z0-9_-]{1,64}$/;
const MAX_DOCUMENT_CHARACTERS = 32_768;
/** statusDetails: at most 10 pairs; keys `[a-zA-Z0-9:_-]+` of 1-128, values 1-1,024 without control characters (APIREF:API_iot-jobs-data_JobExecutionState). */
const STATUS_DETAILS = { maxPairs: 10, key: /^[a-zA-Z0-9:_-]{1,128}$/, maxValue: 1024 } as const;

class Rejected extends Error {
  constructor(
    readonly code: JobsErrorCode,
    message: string,
    readonly executionState?: Record<string, unknown>,
  ) {
    super(message);
  }
}

const seconds = (ms: number) => Math.floor(ms / 1000);

export class LocalIotJobs {
  private readonly jobs = new Map<string, Job>();
  /** Executions per thing, in creation order. */
  private readonly executions = new Map<string, Execution[]>();
  private readonly minuteMs: number;
  private sequence = 0;
  private closed = false;

  constructor(private readonly options: LocalIotJobsOptions) {
    this.minuteMs = options.minuteMs ?? 60_000;
    if (!(this.minuteMs > 0)) throw new Error(`minuteMs must be positive, not ${options.minuteMs}`);
  }

  // ---- control plane -------------------------------------------------------------------------

  /** CreateJob. Every check comes before any change: bad input throws and creates nothing. */
  createJob(request: CreateJobRequest): { jobId: string; jobArn: string } {
    if (!JOB_ID.test(request.jobId)) throw new Error(`jobId must match [a-zA-Z0-9_-]{1,64}, not ${JSON.stringify(request.jobId)}`);
    if (this.jobs.has(request.jobId)) throw new Error(`ResourceAlreadyExistsException: job ${request.jobId} already exists`);
    const document = typeof request.document === "string" ? request.document : JSON.stringify(request.document);
    if (document.length > MAX_DOCUMENT_CHARACTERS) throw new Error(`the job document has ${document.length} characters; at most ${MAX_DOCUMENT_CHARACTERS}`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(document);
    } catch {
      throw new Error("the job document is not JSON");
    }
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("the job document must be a JSON object");
    const maximumPerMinute = request.rollout?.maximumPerMinute ?? 1000;
    if (!Number.isInteger(maximumPerMinute) || maximumPerMinute < 1 || maximumPerMinute > 1000) throw new Error(`rollout.maximumPerMinute must be an integer from 1 to 1000, not ${maximumPerMinute}`);
    const criteriaList = request.abort?.criteriaList ?? [];
    for (const criteria of criteriaList) validateAbortCriteria(criteria);
    if (request.timeoutInMinutes !== undefined && !(Number.isInteger(request.timeoutInMinutes) && request.timeoutInMinutes >= 1 && request.timeoutInMinutes <= 10_080)) {
      throw new Error(`timeoutInMinutes must be an integer from 1 to 10080, not ${request.timeoutInMinutes}`);
    }
    const expiresInSec = request.presignedUrlExpiresInSec ?? 3600;
    if (!Number.isInteger(expiresInSec) || expiresInSec < 60 || expiresInSec > 3600) throw new Error(`presignedUrlExpiresInSec must be an integer from 60 to 3600, not ${expiresInSec}`);
    if (request.targets.length === 0) throw new Error("a job needs at least one target");
    const targetThings = [...new Set(request.targets.flatMap((target) => this.resolveTarget(target)))];

    const job: Job = {
      jobId: request.jobId,
      status: "IN_PROGRESS",
      targetThings,
      document,
      createdAt: Date.now(),
      maximumPerMinute,
      abortCriteria: criteriaList,
      timeoutInMinutes: request.timeoutInMinutes,
      presignedUrlExpiresInSec: expiresInSec,
      awaitingRollout: [...targetThings],
    };
    this.jobs.set(job.jobId, job);
    this.rollOut(job);
    return { jobId: job.jobId, jobArn: `arn:aws:iot:${this.options.registry.region}:${this.options.registry.accountId}:job/${job.jobId}` };
  }

  /** DescribeJob. */
  describeJob(jobId: string): JobDescription {
    const job = this.job(jobId);
    const executions = this.executionsOf(job);
    const count = (status: JobExecutionStatus) => executions.filter((execution) => execution.status === status).length;
    return {
      jobId: job.jobId,
      status: job.status,
      targetThings: job.targetThings,
      document: job.document,
      createdAt: seconds(job.createdAt),
      ...(job.completedAt !== undefined ? { completedAt: seconds(job.completedAt) } : {}),
      ...(job.comment !== undefined ? { comment: job.comment } : {}),
      ...(job.reasonCode !== undefined ? { reasonCode: job.reasonCode } : {}),
      numberOfNotifiedThings: executions.length,
      jobProcessDetails: {
        numberOfQueuedThings: count("QUEUED"),
        numberOfInProgressThings: count("IN_PROGRESS"),
        numberOfSucceededThings: count("SUCCEEDED"),
        numberOfFailedThings: count("FAILED"),
        numberOfRejectedThings: count("REJECTED"),
        numberOfTimedOutThings: count("TIMED_OUT"),
        numberOfCanceledThings: count("CANCELED"),
        numberOfRemovedThings: count("REMOVED"),
      },
    };
  }

  /** ListJobExecutionsForJob: the executions the rollout has created, optionally of one status. */
  listJobExecutions(jobId: string, status?: JobExecutionStatus): JobExecutionSummaryForJob[] {
    return this.executionsOf(this.job(jobId))
      .filter((execution) => status === undefined || execution.status === status)
      .map((execution) => ({
        thingName: execution.thingName,
        status: execution.status,
        queuedAt: seconds(execution.queuedAt),
        ...(execution.startedAt !== undefined ? { startedAt: seconds(execution.startedAt) } : {}),
        lastUpdatedAt: seconds(execution.lastUpdatedAt),
        versionNumber: execution.versionNumber,
        executionNumber: execution.executionNumber,
        statusDetails: { ...execution.statusDetails },
      }));
  }

  /**
   * CancelJob: the job becomes CANCELED, its rollout stops, QUEUED executions become CANCELED, and
   * IN_PROGRESS ones too only with `force` (otherwise the device may still finish them).
   */
  cancelJob(jobId: string, options: { force?: boolean; comment?: string; reasonCode?: string } = {}): void {
    const job = this.job(jobId);
    if (job.status === "COMPLETED") throw new Error(`InvalidRequestException: job ${jobId} is COMPLETED and cannot be canceled`);
    if (job.status === "CANCELED" && !options.force) return;
    this.cancel(job, options.comment, options.reasonCode, options.force ? ["QUEUED", "IN_PROGRESS"] : ["QUEUED"]);
  }

  /** Stops every timer (the platform is stopping). */
  close(): void {
    this.closed = true;
    for (const job of this.jobs.values()) clearInterval(job.rolloutTimer);
    for (const executions of this.executions.values()) for (const execution of executions) clearTimeout(execution.timeoutTimer);
  }

  // ---- device side ---------------------------------------------------------------------------

  /** GetPendingJobExecutions: `$aws/things/<thing>/jobs/get`. */
  getPendingJobExecutions(thingName: string, request: Record<string, unknown>): JobsReply {
    return this.reply(() => {
      const pending = this.pending(thingName);
      return {
        inProgressJobs: pending.filter((execution) => execution.status === "IN_PROGRESS").map(summary),
        queuedJobs: pending.filter((execution) => execution.status === "QUEUED").map(summary),
        ...this.stamp(request),
      };
    });
  }

  /**
   * StartNextPendingJobExecution: `$aws/things/<thing>/jobs/start-next`. The next pending execution
   * (IN_PROGRESS first, then the oldest QUEUED); a QUEUED one becomes IN_PROGRESS with the request's
   * statusDetails, an IN_PROGRESS one keeps its details. No pending execution: accepted, no execution.
   */
  startNextPendingJobExecution(thingName: string, request: Record<string, unknown>): JobsReply {
    return this.reply(() => {
      const statusDetails = request.statusDetails === undefined ? undefined : parseStatusDetails(request.statusDetails);
      const stepTimeout = parseStepTimeout(request.stepTimeoutInMinutes);
      const next = this.next(thingName);
      if (next) {
        this.changing(thingName, () => {
          if (next.status === "QUEUED") {
            if (statusDetails) next.statusDetails = statusDetails;
            this.start(next);
            next.lastUpdatedAt = Date.now();
            next.versionNumber += 1;
          }
          if (stepTimeout !== undefined) this.setStepTimer(next, stepTimeout);
        });
      }
      return { ...(next ? { execution: this.jobExecution(next, true) } : {}), ...this.stamp(request) };
    });
  }

  /**
   * DescribeJobExecution: `$aws/things/<thing>/jobs/<jobId|$next>/get`. `includeJobDocument`
   * defaults to true. `$next` with nothing pending is accepted without an execution.
   */
  describeJobExecution(thingName: string, jobId: string, request: Record<string, unknown>): JobsReply {
    return this.reply(() => {
      const includeJobDocument = parseOptionalBoolean(request.includeJobDocument, "includeJobDocument") ?? true;
      const executionNumber = parseOptionalInteger(request.executionNumber, "executionNumber");
      if (jobId === "$next") {
        const next = this.next(thingName);
        return { ...(next ? { execution: this.jobExecution(next, includeJobDocument) } : {}), ...this.stamp(request) };
      }
      const execution = this.execution(thingName, jobId, executionNumber);
      // "Occurs when a command to describe a job is performed on a job that is in a terminal state" (IOT23:jobs-api).
      if (execution.job.status !== "IN_PROGRESS") throw new Rejected("TerminalStateReached", `job ${jobId} is ${execution.job.status}`);
      return { execution: this.jobExecution(execution, includeJobDocument), ...this.stamp(request) };
    });
  }

  /**
   * UpdateJobExecution: `$aws/things/<thing>/jobs/<jobId>/update`. `status` is required on every
   * call; a terminal execution cannot change (InvalidStateTransition, with its state); a stale
   * `expectedVersion` is a VersionMismatch (with the current state). Each accepted update increments
   * versionNumber.
   */
  updateJobExecution(thingName: string, jobId: string, request: Record<string, unknown>): JobsReply {
    return this.reply(() => {
      const status = request.status;
      if (typeof status !== "string" || !DEVICE_STATUSES.includes(status as JobExecutionStatus)) {
        throw new Rejected("InvalidRequest", `status must be one of ${DEVICE_STATUSES.join(", ")}`);
      }
      const statusDetails = request.statusDetails === undefined ? undefined : parseStatusDetails(request.statusDetails);
      const expectedVersion = parseOptionalInteger(request.expectedVersion, "expectedVersion");
      const executionNumber = parseOptionalInteger(request.executionNumber, "executionNumber");
      const stepTimeout = parseStepTimeout(request.stepTimeoutInMinutes);
      const includeJobExecutionState = parseOptionalBoolean(request.includeJobExecutionState, "includeJobExecutionState") ?? false;
      const includeJobDocument = parseOptionalBoolean(request.includeJobDocument, "includeJobDocument") ?? false;
      const execution = this.execution(thingName, jobId, executionNumber);
      if (expectedVersion !== undefined && expectedVersion !== execution.versionNumber) {
        throw new Rejected("VersionMismatch", `expected version ${expectedVersion}, the execution is at ${execution.versionNumber}`, executionState(execution));
      }
      if (TERMINAL.has(execution.status)) {
        throw new Rejected("InvalidStateTransition", `the execution is ${execution.status}, a terminal status; it cannot become ${status}`, executionState(execution));
      }
      this.changing(thingName, () => {
        if (statusDetails) execution.statusDetails = statusDetails;
        if (status === "IN_PROGRESS") {
          if (execution.status === "QUEUED") this.start(execution);
          if (stepTimeout !== undefined) this.setStepTimer(execution, stepTimeout);
        } else {
          this.finish(execution, status as JobExecutionStatus);
        }
        execution.lastUpdatedAt = Date.now();
        execution.versionNumber += 1;
      });
      if (TERMINAL.has(execution.status)) this.afterTerminal(execution.job);
      return {
        ...(includeJobExecutionState ? { executionState: executionState(execution) } : {}),
        ...(includeJobDocument ? { jobDocument: this.documentFor(execution.job) } : {}),
        ...this.stamp(request),
      };
    });
  }

  // ---- internals -----------------------------------------------------------------------------

  private reply(answer: () => Record<string, unknown>): JobsReply {
    try {
      return { accepted: answer() };
    } catch (error) {
      if (error instanceof Rejected) return { rejected: { code: error.code, message: error.message, ...(error.executionState ? { executionState: error.executionState } : {}) } };
      return { rejected: { code: "InternalError", message: (error as Error).message } };
    }
  }

  /** timestamp and the request's clientToken, echoed for correlation. */
  private stamp(request: Record<string, unknown>): Record<string, unknown> {
    return { timestamp: seconds(Date.now()), ...(typeof request.clientToken === "string" ? { clientToken: request.clientToken } : {}) };
  }

  private job(jobId: string): Job {
    const job = this.jobs.get(jobId);
    if (!job) throw new Error(`ResourceNotFoundException: no job ${jobId}`);
    return job;
  }

  private executionsOf(job: Job): Execution[] {
    return job.targetThings.flatMap((thingName) => (this.executions.get(thingName) ?? []).filter((execution) => execution.job === job));
  }

  private execution(thingName: string, jobId: string, executionNumber?: number): Execution {
    const found = (this.executions.get(thingName) ?? []).find((execution) => execution.job.jobId === jobId && (executionNumber === undefined || execution.executionNumber === executionNumber));
    if (!found) throw new Rejected("ResourceNotFound", `no execution of job ${jobId} for thing ${thingName}`);
    return found;
  }

  /** A thing name, or the things of a thing group, from an ARN or a plain name. */
  private resolveTarget(target: string): string[] {
    const { registry } = this.options;
    const arn = /^arn:aws[a-z-]*:iot:([^:]+):([^:]+):(thing|thinggroup)\/(.+)$/.exec(target);
    if (arn && (arn[1] !== registry.region || arn[2] !== registry.accountId)) throw new Error(`target ${target} is not in this account and region`);
    const things = [...registry.things.values()];
    const groupMembers = (group: string) => things.filter((thing) => thing.groups.includes(group)).map((thing) => thing.thingName);
    if (arn?.[3] === "thing" || (!arn && registry.things.has(target))) {
      const name = arn ? arn[4]! : target;
      if (!registry.things.has(name)) throw new Error(`ResourceNotFoundException: no thing ${name}`);
      return [name];
    }
    const group = arn ? arn[4]! : target;
    const members = groupMembers(group);
    if (members.length === 0) throw new Error(`ResourceNotFoundException: ${target} is neither a thing nor a thing group with members`);
    return members;
  }

  /** Releases at most maximumPerMinute executions now, and the next batch each job minute after. */
  private rollOut(job: Job): void {
    const release = () => {
      if (job.status !== "IN_PROGRESS" || this.closed) return this.stopRollout(job);
      for (const thingName of job.awaitingRollout.splice(0, job.maximumPerMinute)) this.createExecution(job, thingName);
      if (job.awaitingRollout.length === 0) this.stopRollout(job);
    };
    release();
    if (job.awaitingRollout.length > 0) job.rolloutTimer = setInterval(release, this.minuteMs);
  }

  private stopRollout(job: Job): void {
    clearInterval(job.rolloutTimer);
    job.rolloutTimer = undefined;
  }

  private createExecution(job: Job, thingName: string): void {
    const now = Date.now();
    const execution: Execution = {
      job,
      thingName,
      status: "QUEUED",
      statusDetails: {},
      queuedAt: now,
      lastUpdatedAt: now,
      versionNumber: 1,
      executionNumber: 1,
      sequence: this.sequence++,
    };
    this.changing(thingName, () => {
      const list = this.executions.get(thingName) ?? [];
      list.push(execution);
      this.executions.set(thingName, list);
    });
  }

  /** Pending executions of a thing: IN_PROGRESS first, then QUEUED, each oldest first. */
  private pending(thingName: string): Execution[] {
    const list = (this.executions.get(thingName) ?? []).filter((execution) => execution.status === "QUEUED" || execution.status === "IN_PROGRESS");
    const rank = (execution: Execution) => (execution.status === "IN_PROGRESS" ? 0 : 1);
    return list.sort((a, b) => rank(a) - rank(b) || a.sequence - b.sequence);
  }

  private next(thingName: string): Execution | undefined {
    return this.pending(thingName)[0];
  }

  /**
   * Runs a change to a thing's executions, then pushes what changed: notify when the pending list
   * gained or lost an execution, notify-next when the next execution is another one ("not sent when
   * the next job's execution details change", IOT23:jobs-mqtt-api).
   */
  private changing(thingName: string, change: () => void): void {
    const before = this.pending(thingName);
    change();
    const after = this.pending(thingName);
    const topics = jobsTopics(thingName);
    const ids = (list: Execution[]) => list.map((execution) => execution.sequence).sort().join(",");
    if (ids(before) !== ids(after)) {
      const byStatus = (status: JobExecutionStatus) => after.filter((execution) => execution.status === status).map(summary);
      const queued = byStatus("QUEUED");
      const inProgress = byStatus("IN_PROGRESS");
      this.options.publish(topics.notify, {
        timestamp: seconds(Date.now()),
        jobs: { ...(queued.length ? { QUEUED: queued } : {}), ...(inProgress.length ? { IN_PROGRESS: inProgress } : {}) },
      });
    }
    if (before[0] !== after[0]) {
      this.options.publish(topics.notifyNext, { timestamp: seconds(Date.now()), ...(after[0] ? { execution: this.jobExecution(after[0], true) } : {}) });
    }
  }

  /** QUEUED → IN_PROGRESS; the in-progress timer starts and is fixed from now on. */
  private start(execution: Execution): void {
    const now = Date.now();
    execution.status = "IN_PROGRESS";
    execution.startedAt = now;
    const minutes = execution.job.timeoutInMinutes;
    if (minutes !== undefined) {
      execution.inProgressDeadline = now + minutes * this.minuteMs;
      this.armTimeout(execution, execution.inProgressDeadline);
    }
  }

  /**
   * A step timer replaces the previous one, `-1` discards it, and it never reaches past the
   * in-progress timer (IOT23:jobs-configurations-details, "How timers work for job timeouts").
   */
  private setStepTimer(execution: Execution, stepTimeoutInMinutes: number): void {
    const inProgress = execution.inProgressDeadline ?? Infinity;
    if (stepTimeoutInMinutes === -1) {
      if (Number.isFinite(inProgress)) this.armTimeout(execution, inProgress);
      else clearTimeout(execution.timeoutTimer);
      return;
    }
    this.armTimeout(execution, Math.min(Date.now() + stepTimeoutInMinutes * this.minuteMs, inProgress));
  }

  private armTimeout(execution: Execution, at: number): void {
    clearTimeout(execution.timeoutTimer);
    if (this.closed) return;
    execution.timeoutTimer = setTimeout(() => {
      if (execution.status !== "IN_PROGRESS") return;
      this.changing(execution.thingName, () => {
        this.finish(execution, "TIMED_OUT");
        execution.lastUpdatedAt = Date.now();
        execution.versionNumber += 1;
      });
      this.afterTerminal(execution.job);
    }, Math.max(0, at - Date.now()));
  }

  private finish(execution: Execution, status: JobExecutionStatus): void {
    execution.status = status;
    clearTimeout(execution.timeoutTimer);
    execution.timeoutTimer = undefined;
  }

  /** After an execution ends: the abort criteria, in order, then COMPLETED once every execution is terminal. */
  private afterTerminal(job: Job): void {
    if (job.status !== "IN_PROGRESS") return;
    const executions = this.executionsOf(job);
    const completed = executions.filter((execution) => COMPLETED.has(execution.status));
    for (const criteria of job.abortCriteria) {
      // The share is of *completed* executions, checked once minNumberOfExecutedThings have completed:
      // "If at least 20% of the complete executions failed after 100 executions are complete, it
      // cancels the job rollout" (IOT23:job-configurations-api, Abort configuration). The API
      // reference words minNumberOfExecutedThings as things that "receive job execution
      // notifications"; the developer guide's completed executions are what is modelled.
      if (completed.length < criteria.minNumberOfExecutedThings) continue;
      const failures = completed.filter((execution) => (criteria.failureType === "ALL" ? execution.status !== "SUCCEEDED" : execution.status === criteria.failureType)).length;
      if ((failures / completed.length) * 100 >= criteria.thresholdPercentage) {
        // Only QUEUED executions are canceled; IN_PROGRESS ones run on (IOT23:jobs-configurations-details, Note under "Retry and abort configuration").
        this.cancel(job, `Job aborted: ${failures} of ${completed.length} completed executions ${criteria.failureType}`, "ABORTED", ["QUEUED"]);
        return;
      }
    }
    if (job.awaitingRollout.length === 0 && executions.every((execution) => TERMINAL.has(execution.status))) {
      job.status = "COMPLETED";
      job.completedAt = Date.now();
    }
  }

  private cancel(job: Job, comment: string | undefined, reasonCode: string | undefined, statuses: readonly JobExecutionStatus[]): void {
    job.status = "CANCELED";
    job.completedAt = Date.now();
    if (comment !== undefined) job.comment = comment;
    if (reasonCode !== undefined) job.reasonCode = reasonCode;
    job.awaitingRollout.length = 0;
    this.stopRollout(job);
    for (const execution of this.executionsOf(job)) {
      if (!statuses.includes(execution.status)) continue;
      this.changing(execution.thingName, () => {
        this.finish(execution, "CANCELED");
        execution.lastUpdatedAt = Date.now();
        execution.versionNumber += 1;
      });
    }
  }

  /** The job document as the device gets it: each presign placeholder replaced by a download URL. */
  private documentFor(job: Job): Record<string, unknown> {
    const text = job.document.replace(PRESIGN_PLACEHOLDER, (_placeholder, s3Url: string) => this.options.presign(s3Url, job.presignedUrlExpiresInSec));
    return JSON.parse(text) as Record<string, unknown>;
  }

  /** JobExecution (iot-jobs-data) as the device API returns it. */
  private jobExecution(execution: Execution, includeJobDocument: boolean): Record<string, unknown> {
    return {
      jobId: execution.job.jobId,
      thingName: execution.thingName,
      status: execution.status,
      statusDetails: { ...execution.statusDetails },
      queuedAt: seconds(execution.queuedAt),
      ...(execution.startedAt !== undefined ? { startedAt: seconds(execution.startedAt) } : {}),
      lastUpdatedAt: seconds(execution.lastUpdatedAt),
      versionNumber: execution.versionNumber,
      executionNumber: execution.executionNumber,
      ...(includeJobDocument ? { jobDocument: this.documentFor(execution.job) } : {}),
    };
  }
}

/** JobExecutionSummary (iot-jobs-data). */
function summary(execution: Execution): Record<string, unknown> {
  return {
    jobId: execution.job.jobId,
    queuedAt: seconds(execution.queuedAt),
    ...(execution.startedAt !== undefined ? { startedAt: seconds(execution.startedAt) } : {}),
    lastUpdatedAt: seconds(execution.lastUpdatedAt),
    versionNumber: execution.versionNumber,
    executionNumber: execution.executionNumber,
  };
}

/** JobExecutionState (iot-jobs-data). */
function executionState(execution: Execution): Record<string, unknown> {
  return { status: execution.status, statusDetails: { ...execution.statusDetails }, versionNumber: execution.versionNumber };
}

function validateAbortCriteria(criteria: AbortCriteria): void {
  if (criteria.action !== "CANCEL") throw new Error(`abort action must be CANCEL, not ${criteria.action}`);
  if (!["FAILED", "REJECTED", "TIMED_OUT", "ALL"].includes(criteria.failureType)) throw new Error(`abort failureType must be FAILED, REJECTED, TIMED_OUT or ALL, not ${criteria.failureType}`);
  const threshold = criteria.thresholdPercentage;
  if (typeof threshold !== "number" || !(threshold >= 0 && threshold <= 100) || Math.round(threshold * 100) !== threshold * 100) {
    throw new Error(`abort thresholdPercentage must be 0-100 with at most two decimals, not ${threshold}`);
  }
  if (!Number.isInteger(criteria.minNumberOfExecutedThings) || criteria.minNumberOfExecutedThings < 1) {
    throw new Error(`abort minNumberOfExecutedThings must be an integer >= 1, not ${criteria.minNumberOfExecutedThings}`);
  }
}

function parseStatusDetails(value: unknown): Record<string, string> {
  if (!value || typeof value !== "object" || Array.isArray(value)) throw new Rejected("InvalidRequest", "statusDetails must be an object of strings");
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > STATUS_DETAILS.maxPairs) throw new Rejected("InvalidRequest", `statusDetails may hold at most ${STATUS_DETAILS.maxPairs} pairs`);
  for (const [key, detail] of entries) {
    if (!STATUS_DETAILS.key.test(key)) throw new Rejected("InvalidRequest", `statusDetails key ${JSON.stringify(key)} must match [a-zA-Z0-9:_-]{1,128}`);
    // eslint-disable-next-line no-control-regex
    if (typeof detail !== "string" || detail.length < 1 || detail.length > STATUS_DETAILS.maxValue || /[\u0000-\u001f\u007f]/.test(detail)) {
      throw new Rejected("InvalidRequest", `statusDetails.${key} must be a string of 1-${STATUS_DETAILS.maxValue} characters without control characters`);
    }
  }
  return Object.fromEntries(entries) as Record<string, string>;
}

function parseStepTimeout(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (value === -1 || (Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 10_080)) return value as number;
  throw new Rejected("InvalidRequest", "stepTimeoutInMinutes must be an integer from 1 to 10080, or -1");
}

function parseOptionalInteger(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (Number.isInteger(value) && (value as number) >= 0) return value as number;
  throw new Rejected("InvalidRequest", `${name} must be a non-negative integer`);
}

function parseOptionalBoolean(value: unknown, name: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "boolean") return value;
  throw new Rejected("InvalidRequest", `${name} must be a boolean`);
}
