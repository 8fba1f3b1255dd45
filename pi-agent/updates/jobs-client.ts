import { QoS, type MqttClientConnection } from "aws-crt/dist/native/mqtt";
import { randomUUID } from "node:crypto";
import * as z from "zod/mini";
import { jobsTopics } from "../../contracts/topics";

/**
 * The device side of the IoT Jobs MQTT API over the agent's own connection (QoS 1), on the topics of
 * contracts/topics.ts `jobsTopics`. Requests carry a clientToken and resolve on the matching
 * `accepted` or reject on `rejected` (IoT echoes the token).
 * https://docs.aws.amazon.com/iot/latest/developerguide/jobs-mqtt-api.html (reference sheet
 * /work/shared/reference/iot-jobs-sessions-delivery.md §1). Plain MQTT rather than the SDK's
 * iotjobs client: the agent deep-imports aws-crt and keeps the SDK root (and its RSS) out.
 */
export type ReportedStatus = "IN_PROGRESS" | "SUCCEEDED" | "FAILED" | "REJECTED";

const executionSchema = z.object({
  jobId: z.string(),
  status: z.string(),
  jobDocument: z.optional(z.unknown()),
  versionNumber: z.optional(z.number()),
  executionNumber: z.optional(z.number()),
});
export type JobExecution = z.infer<typeof executionSchema>;

const startNextAcceptedSchema = z.object({ clientToken: z.optional(z.string()), execution: z.optional(executionSchema) });
const notifyNextSchema = z.object({ execution: z.optional(executionSchema) });
const replySchema = z.object({ clientToken: z.optional(z.string()) });
const rejectedSchema = z.object({ clientToken: z.optional(z.string()), code: z.optional(z.string()), message: z.optional(z.string()) });

export class JobsRequestRejected extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

interface Waiting {
  resolve(payload: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

export class JobsClient {
  private readonly topics: ReturnType<typeof jobsTopics>;
  private readonly waiting = new Map<string, Waiting>();
  private readonly replyTopics: { accepted: string[]; rejected: string[] };

  constructor(
    private readonly connection: MqttClientConnection,
    readonly thingName: string,
    private readonly onNextChanged: (execution: JobExecution | undefined) => void,
    private readonly requestTimeoutMs = 30_000,
  ) {
    this.topics = jobsTopics(thingName);
    const anyJobUpdate = this.topics.update("+");
    this.replyTopics = {
      accepted: [this.topics.accepted(this.topics.startNext), this.topics.accepted(anyJobUpdate)],
      rejected: [this.topics.rejected(this.topics.startNext), this.topics.rejected(anyJobUpdate)],
    };
  }

  /** The filters to subscribe to (again when a session was not resumed). */
  get subscriptions(): string[] {
    return [this.topics.notifyNext, ...this.replyTopics.accepted, ...this.replyTopics.rejected];
  }

  async subscribe(): Promise<void> {
    for (const filter of this.subscriptions) {
      const granted = await this.connection.subscribe(filter, QoS.AtLeastOnce);
      if (granted.qos !== QoS.AtLeastOnce) throw new Error(`subscription to ${filter} refused (granted QoS ${granted.qos})`);
    }
  }

  /** True when `topic` is one of this thing's jobs topics (the agent routes those here). */
  handles(topic: string): boolean {
    return topic.startsWith(`${this.topics.root}/`);
  }

  deliver(topic: string, payload: ArrayBuffer): void {
    let json: unknown;
    try {
      json = JSON.parse(Buffer.from(payload).toString("utf8"));
    } catch {
      return; // not from IoT Jobs; nothing to correlate
    }
    if (topic === this.topics.notifyNext) {
      const parsed = notifyNextSchema.safeParse(json);
      if (parsed.success) this.onNextChanged(parsed.data.execution);
      return;
    }
    const rejected = topic.endsWith("/rejected");
    const token = (rejected ? rejectedSchema : replySchema).safeParse(json);
    const clientToken = token.success ? token.data.clientToken : undefined;
    const waiting = clientToken ? this.waiting.get(clientToken) : undefined;
    if (!waiting) return;
    this.waiting.delete(clientToken!);
    clearTimeout(waiting.timer);
    if (rejected) {
      const reply = rejectedSchema.parse(json);
      waiting.reject(new JobsRequestRejected(reply.code ?? "Unknown", reply.message ?? ""));
    } else {
      waiting.resolve(json);
    }
  }

  /** StartNextPendingJobExecution: the next execution, now IN_PROGRESS; undefined when none is pending. */
  async startNext(): Promise<JobExecution | undefined> {
    const reply = await this.request(this.topics.startNext, {});
    return startNextAcceptedSchema.parse(reply).execution;
  }

  /** UpdateJobExecution. statusDetails values are cut to IoT's limits (1,024 characters, no control characters). */
  async update(jobId: string, status: ReportedStatus, statusDetails: Record<string, string>): Promise<void> {
    await this.request(this.topics.update(jobId), { status, statusDetails: jobStatusDetails(statusDetails) });
  }

  /** Rejects every request still waiting (the connection is going away). */
  close(): void {
    for (const [token, waiting] of this.waiting) {
      clearTimeout(waiting.timer);
      waiting.reject(new Error("jobs client closed"));
      this.waiting.delete(token);
    }
  }

  private request(topic: string, body: Record<string, unknown>): Promise<unknown> {
    const clientToken = randomUUID();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(clientToken);
        reject(new Error(`no answer on ${topic} within ${this.requestTimeoutMs} ms`));
      }, this.requestTimeoutMs);
      this.waiting.set(clientToken, { resolve, reject, timer });
      this.connection.publish(topic, JSON.stringify({ ...body, clientToken }), QoS.AtLeastOnce).catch((error: Error) => {
        clearTimeout(timer);
        this.waiting.delete(clientToken);
        reject(error);
      });
    });
  }
}

/**
 * IoT's limits on statusDetails: keys `[a-zA-Z0-9:_-]+` (1–128), values 1–1,024 characters without
 * control characters, at most 10 pairs (APIREF API_iot-jobs-data_JobExecutionState; reference §1).
 */
export function jobStatusDetails(details: Record<string, string>): Record<string, string> {
  const entries = Object.entries(details)
    .filter(([key]) => /^[a-zA-Z0-9:_-]{1,128}$/.test(key))
    .map(([key, value]) => [key, value.replace(/[\u0000-\u001f\u007f]+/g, " ").slice(0, 1024) || "-"] as const)
    .slice(0, 10);
  return Object.fromEntries(entries);
}
