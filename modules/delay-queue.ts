import { LambdaEventSourceMapping } from "@cdktf/provider-aws/lib/lambda-event-source-mapping";
import { SqsQueue } from "@cdktf/provider-aws/lib/sqs-queue";
import { Construct } from "constructs";
import { deadLetterQueue } from "./dead-letter-queue";
import type { NodejsFunction } from "./nodejs-function";
import type { ProjectRole } from "./project-role";

export interface DelayQueueProps {
  readonly queueName: string;
  /** Visibility timeout; at least six times the consumer's timeout, as AWS advises. @default 60 */
  readonly visibilityTimeoutSeconds?: number;
  /** Deliveries before a message moves to the dead-letter queue. @default 5 */
  readonly maxReceiveCount?: number;
}

/**
 * An SQS queue for work to do later (messages carry their own DelaySeconds), encrypted, with a
 * dead-letter queue so a message that keeps failing is kept, not lost.
 */
export class DelayQueue extends Construct {
  readonly queue: SqsQueue;
  readonly deadLetterQueue: SqsQueue;
  readonly queueUrl: string;
  readonly queueArn: string;

  constructor(scope: Construct, id: string, props: DelayQueueProps) {
    super(scope, id);
    this.deadLetterQueue = deadLetterQueue(this, "dead-letters", `${props.queueName}-dead-letters`);
    this.queue = new SqsQueue(this, "queue", {
      name: props.queueName,
      sqsManagedSseEnabled: true,
      visibilityTimeoutSeconds: props.visibilityTimeoutSeconds ?? 60,
      redrivePolicy: JSON.stringify({ deadLetterTargetArn: this.deadLetterQueue.arn, maxReceiveCount: props.maxReceiveCount ?? 5 }),
    });
    this.queueUrl = this.queue.url;
    this.queueArn = this.queue.arn;
  }

  grantSend(role: ProjectRole): void {
    role.allow(`send-${this.node.id}`, [{ sid: "SendToQueue", actions: ["sqs:SendMessage"], resources: [this.queueArn] }]);
  }

  /** Makes the function the queue's consumer; it reports partial batch failures. */
  addConsumer(fn: NodejsFunction): LambdaEventSourceMapping {
    const consume = fn.role.allow(`consume-${this.node.id}`, [
      { sid: "ConsumeQueue", actions: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"], resources: [this.queueArn] },
    ]);
    return new LambdaEventSourceMapping(this, `consumer-${fn.node.id}`, {
      eventSourceArn: this.queueArn,
      functionName: fn.functionArn,
      batchSize: 10,
      functionResponseTypes: ["ReportBatchItemFailures"],
      dependsOn: [consume],
    });
  }
}
