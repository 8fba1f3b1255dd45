import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { LambdaFunction } from "@cdktf/provider-aws/lib/lambda-function";
import { LambdaPermission } from "@cdktf/provider-aws/lib/lambda-permission";
import type { SqsQueue } from "@cdktf/provider-aws/lib/sqs-queue";
import { AssetType, TerraformAsset } from "cdktf";
import { Construct } from "constructs";
import { bundleFunction, LAMBDA_RUNTIME, type FunctionBundle } from "./function-bundle";
import { ProjectRole } from "./project-role";

export interface NodejsFunctionProps {
  /** Full function name. */
  readonly functionName: string;
  /** Name of the role the function runs as (64 characters at most). */
  readonly roleName: string;
  /** Path of the TypeScript handler module; it exports `handler`. */
  readonly entry: string;
  readonly description: string;
  /** Environment variables (Lambda limits them to 4 KB in total). */
  readonly environment: Readonly<Record<string, string>>;
  readonly logRetentionDays: number;
  /** @default 256 */
  readonly memorySizeMiB?: number;
  /** @default 10 */
  readonly timeoutSeconds?: number;
  /**
   * Where Lambda puts an asynchronous event that still fails after its retries (IoT rules and
   * EventBridge invoke asynchronously).
   * @default - failed asynchronous events are dropped after two retries
   */
  readonly deadLetterQueue?: SqsQueue;
}

/**
 * A TypeScript Lambda: esbuild-bundled into a reproducible zip asset, on LAMBDA_RUNTIME (arm64), JSON logs
 * into its own log group with retention, and a role that starts with nothing but those logs.
 * Resources grant it more through their own grant methods.
 */
export class NodejsFunction extends Construct {
  readonly function: LambdaFunction;
  readonly functionName: string;
  readonly functionArn: string;
  readonly role: ProjectRole;
  readonly logGroup: CloudwatchLogGroup;
  readonly bundle: FunctionBundle;

  constructor(scope: Construct, id: string, props: NodejsFunctionProps) {
    super(scope, id);
    this.bundle = bundleFunction(props.entry);
    const code = new TerraformAsset(this, "code", { path: this.bundle.zipPath, type: AssetType.FILE });

    this.logGroup = new CloudwatchLogGroup(this, "logs", {
      name: `/aws/lambda/${props.functionName}`,
      retentionInDays: props.logRetentionDays,
    });
    this.role = new ProjectRole(this, "role", {
      roleName: props.roleName,
      description: `Lambda ${props.functionName}`,
      trust: { principal: { Service: "lambda.amazonaws.com" } },
    });
    const logs = this.role.allow("write-logs", [
      { sid: "WriteOwnLogs", actions: ["logs:CreateLogStream", "logs:PutLogEvents"], resources: [`${this.logGroup.arn}:*`] },
    ]);
    const deadLetters = props.deadLetterQueue
      ? this.role.allow("dead-letters", [{ sid: "KeepFailedEvents", actions: ["sqs:SendMessage"], resources: [props.deadLetterQueue.arn] }])
      : undefined;

    this.function = new LambdaFunction(this, "function", {
      functionName: props.functionName,
      description: props.description,
      role: this.role.roleArn,
      runtime: LAMBDA_RUNTIME,
      architectures: ["arm64"],
      handler: "index.handler",
      filename: code.path,
      sourceCodeHash: this.bundle.sha256,
      memorySize: props.memorySizeMiB ?? 256,
      timeout: props.timeoutSeconds ?? 10,
      environment: { variables: { ...props.environment } },
      loggingConfig: { logFormat: "JSON", logGroup: this.logGroup.name },
      deadLetterConfig: props.deadLetterQueue ? { targetArn: props.deadLetterQueue.arn } : undefined,
      dependsOn: [this.logGroup, logs, ...(deadLetters ? [deadLetters] : [])],
    });
    this.functionName = this.function.functionName;
    this.functionArn = this.function.arn;
  }

  /**
   * Lets an AWS service invoke the function, only for this account and, where the service sends
   * one, only from one source ARN (checkov CKV_AWS_364: without them any account's resource could
   * invoke it).
   */
  grantInvoke(id: string, props: { principal: string; sourceAccount: string; sourceArn?: string }): LambdaPermission {
    return new LambdaPermission(this, `invoke-${id}`, {
      functionName: this.function.functionName,
      action: "lambda:InvokeFunction",
      principal: props.principal,
      sourceArn: props.sourceArn,
      sourceAccount: props.sourceAccount,
    });
  }
}
