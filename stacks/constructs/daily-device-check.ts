import { CloudwatchEventRule } from "@cdktf/provider-aws/lib/cloudwatch-event-rule";
import { CloudwatchEventTarget } from "@cdktf/provider-aws/lib/cloudwatch-event-target";
import { Construct } from "constructs";
import { dailyCheckVariables } from "../../contracts/function-environments";
import type { ProjectNames } from "../../contracts/names";
import type { AlertsTopic } from "../../modules/alerts-topic";
import type { AwsAccount } from "../../modules/aws-account";
import { deadLetterQueue } from "../../modules/dead-letter-queue";
import type { ProjectTable } from "../../modules/project-table";
import { ProjectFunction } from "../functions";

export interface DailyDeviceCheckProps {
  readonly names: ProjectNames;
  readonly account: AwsAccount;
  readonly devices: ProjectTable;
  readonly alerts: AlertsTopic;
  /** EventBridge schedule expression, e.g. `cron(0 7 * * ? *)`. */
  readonly schedule: string;
  /** Whether a day with nothing to report still sends a digest. */
  readonly dailyDigest: boolean;
  readonly logRetentionDays: number;
}

/** The daily-check function on an EventBridge schedule: devices offline or not seen for 24 hours, to the alerts topic. */
export class DailyDeviceCheck extends Construct {
  constructor(scope: Construct, id: string, { names, account, devices, alerts, schedule, dailyDigest, logRetentionDays }: DailyDeviceCheckProps) {
    super(scope, id);
    const dailyCheck = new ProjectFunction(this, "daily-check", {
      names,
      description: "Daily summary of devices offline or not seen for 24 hours",
      environment: dailyCheckVariables({ deviceTable: devices.tableName, alertsTopicArn: alerts.topicArn, dailyDigest }),
      logRetentionDays,
      timeoutSeconds: 60,
      // EventBridge invokes it asynchronously: a run that keeps failing is kept here, not lost.
      deadLetterQueue: deadLetterQueue(this, "daily-check-dead-letters", names.queue("daily-check-dead-letters")),
    });
    devices.grantReadData(dailyCheck.role);
    alerts.grantPublish(dailyCheck.role);
    const daily = new CloudwatchEventRule(this, "daily-check-schedule", {
      name: names.schedule("daily-check"),
      description: "Runs the daily device check",
      scheduleExpression: schedule,
    });
    new CloudwatchEventTarget(this, "daily-check-target", { rule: daily.name, arn: dailyCheck.functionArn });
    dailyCheck.grantInvoke("schedule", { principal: "events.amazonaws.com", sourceArn: daily.arn, sourceAccount: account.accountId });
  }
}
