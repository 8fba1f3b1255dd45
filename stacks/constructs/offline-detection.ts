import type { IotTopicRule } from "@cdktf/provider-aws/lib/iot-topic-rule";
import { Construct } from "constructs";
import { devicePresenceVariables } from "../../contracts/function-environments";
import type { ProjectNames } from "../../contracts/names";
import type { AlertsTopic } from "../../modules/alerts-topic";
import type { AwsAccount } from "../../modules/aws-account";
import { deadLetterQueue } from "../../modules/dead-letter-queue";
import { DelayQueue } from "../../modules/delay-queue";
import type { ProjectTable } from "../../modules/project-table";
import { ProjectFunction } from "../functions";

export interface OfflineDetectionProps {
  readonly names: ProjectNames;
  readonly account: AwsAccount;
  readonly devices: ProjectTable;
  readonly alerts: AlertsTopic;
  /** How long a device may stay disconnected before the one offline alert. */
  readonly offlineGraceSeconds: number;
  readonly logRetentionDays: number;
}

/**
 * Device presence from IoT lifecycle events: the device-presence function records connects and
 * disconnects in the device table and alerts once when a device stays offline past the grace period.
 *
 * Lifecycle events can arrive late, twice or out of order, so a disconnect is only trusted after the
 * grace period: the function queues a check with an SQS message delay (up to 15 minutes, no extra
 * service, retried and dead-lettered by SQS) rather than a one-time schedule.
 */
export class OfflineDetection extends Construct {
  /** The SQS queue of delayed presence checks, by name. */
  readonly presenceCheckQueueName: string;
  readonly presenceFunction: ProjectFunction;

  constructor(scope: Construct, id: string, private readonly props: OfflineDetectionProps) {
    super(scope, id);
    const { names, devices, alerts } = props;
    this.presenceCheckQueueName = names.queue("presence-checks");
    const presenceChecks = new DelayQueue(this, "presence-checks", { queueName: this.presenceCheckQueueName });
    // IoT invokes the function asynchronously: an event that keeps failing is kept here, not lost.
    const failedPresenceEvents = deadLetterQueue(this, "presence-events-dead-letters", names.queue("presence-events-dead-letters"));
    this.presenceFunction = new ProjectFunction(this, "device-presence", {
      names,
      description: "Records device connects/disconnects; alerts once when a device stays offline",
      environment: devicePresenceVariables({
        deviceTable: devices.tableName,
        alertsTopicArn: alerts.topicArn,
        presenceCheckQueueUrl: presenceChecks.queueUrl,
        offlineGraceSeconds: props.offlineGraceSeconds,
      }),
      logRetentionDays: props.logRetentionDays,
      deadLetterQueue: failedPresenceEvents,
    });
    devices.grantReadWriteData(this.presenceFunction.role);
    alerts.grantPublish(this.presenceFunction.role);
    presenceChecks.grantSend(this.presenceFunction.role);
    presenceChecks.addConsumer(this.presenceFunction);
  }

  /** Lets the topic rule that forwards lifecycle events invoke the function, and no other rule. */
  allowInvokeByRule(rule: IotTopicRule): void {
    this.presenceFunction.grantInvoke("lifecycle-rule", { principal: "iot.amazonaws.com", sourceArn: rule.arn, sourceAccount: this.props.account.accountId });
  }
}
