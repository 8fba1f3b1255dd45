import { SqsQueue } from "@cdktf/provider-aws/lib/sqs-queue";
import type { Construct } from "constructs";

/**
 * A queue for what a consumer could not handle: encrypted, and kept 14 days (SQS's longest
 * retention), time to notice the alarm and redrive.
 */
export function deadLetterQueue(scope: Construct, id: string, name: string): SqsQueue {
  return new SqsQueue(scope, id, { name, sqsManagedSseEnabled: true, messageRetentionSeconds: 14 * 24 * 3600 });
}
