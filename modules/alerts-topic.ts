import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import { SnsTopicSubscription } from "@cdktf/provider-aws/lib/sns-topic-subscription";
import { Construct } from "constructs";
import type { NodejsFunction } from "./nodejs-function";
import type { ProjectRole } from "./project-role";

export interface AlertsTopicProps {
  readonly topicName: string;
  /** Each receives an SNS confirmation e-mail first. */
  readonly emails: readonly string[];
}

/** An SNS topic for alerts, encrypted with the account's SNS key, with e-mail subscribers. */
export class AlertsTopic extends Construct {
  readonly topic: SnsTopic;
  readonly topicArn: string;

  constructor(scope: Construct, id: string, props: AlertsTopicProps) {
    super(scope, id);
    this.topic = new SnsTopic(this, "topic", { name: props.topicName, kmsMasterKeyId: "alias/aws/sns" });
    this.topicArn = this.topic.arn;
    for (const email of new Set(props.emails)) {
      new SnsTopicSubscription(this, `email-${email.replace(/[^A-Za-z0-9]/g, "-")}`, {
        topicArn: this.topic.arn,
        protocol: "email",
        endpoint: email,
      });
    }
  }

  grantPublish(role: ProjectRole): void {
    role.allow(`publish-${this.node.id}`, [{ sid: "PublishAlerts", actions: ["sns:Publish"], resources: [this.topicArn] }]);
  }

  /** Delivers every alert to a function as well (e.g. the Slack formatter). */
  subscribeFunction(fn: NodejsFunction, sourceAccount: string): void {
    const permission = fn.grantInvoke("sns", { principal: "sns.amazonaws.com", sourceArn: this.topicArn, sourceAccount });
    new SnsTopicSubscription(this, `function-${fn.node.id}`, {
      topicArn: this.topic.arn,
      protocol: "lambda",
      endpoint: fn.functionArn,
      dependsOn: [permission],
    });
  }
}
