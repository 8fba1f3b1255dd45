import { ApiGatewayAccount } from "@cdktf/provider-aws/lib/api-gateway-account";
import type { ITerraformDependable } from "cdktf";
import type { Construct } from "constructs";
import type { EnvironmentConfig } from "../config";
import { serialApiVariables } from "../contracts/function-environments";
import { SERIAL_API_ROUTES } from "../contracts/serial-api";
import { AwsAccount } from "../modules/aws-account";
import { KeyedRestApi } from "../modules/keyed-rest-api";
import { ProjectRole } from "../modules/project-role";
import { TableReference } from "../modules/project-table";
import { ProjectStack } from "./project-stack";
import { ProjectFunction } from "./functions";
import type { IotFleetStack } from "./iot-fleet";

export const SERIAL_API_STAGE = "v1";

/** The serial API CI calls to register the serials that may become devices. */
export class ApiStack extends ProjectStack<"api"> {
  constructor(scope: Construct, config: EnvironmentConfig, dependencies: { fleet: IotFleetStack }) {
    super(scope, "api", { config });
    const fleet = this.outputsOf(dependencies.fleet);
    const account = new AwsAccount(this, "account", config.region);
    const names = this.names;

    const serials = TableReference.fromAttributes(this, "serial-registry", { tableName: fleet.serial_table_name, tableArn: fleet.serial_table_arn });
    const serialApi = new ProjectFunction(this, "serial-api", {
      names,
      description: "Registers, reads, resets and revokes device serials",
      environment: serialApiVariables({ serialTable: serials.tableName }),
      logRetentionDays: config.logRetentionDays,
      timeoutSeconds: 15,
    });
    serials.grantItemReadWrite(serialApi.role);
    serialApi.role.allow("device-certificates", [
      {
        sid: "DeviceThings",
        actions: ["iot:ListThingPrincipals", "iot:DetachThingPrincipal", "iot:DeleteThing"],
        resources: [account.arn("iot", `thing/${names.deviceThingNamePattern}`)],
      },
      // Certificate ids are assigned by AWS, so no name can narrow this further.
      { sid: "DeactivateCertificates", actions: ["iot:UpdateCertificate"], resources: [account.arn("iot", "cert/*")] },
    ]);

    // API Gateway writes logs with one role per account and region (aws_api_gateway_account is a
    // singleton: "one per region per account"), so only the environment that manages it sets it.
    const stageDependsOn: ITerraformDependable[] = [];
    if (config.serialApi.manageAccountLogging) {
      const logsRole = new ProjectRole(this, "api-gateway-logs-role", {
        roleName: names.role("api-gateway-logs"),
        description: "API Gateway: write access and execution logs to CloudWatch",
        trust: { principal: { Service: "apigateway.amazonaws.com" }, conditions: { StringEquals: { "aws:SourceAccount": account.accountId } } },
      });
      const logsPolicy = logsRole.attachPolicy("push-logs", account.managedPolicyArn("service-role/AmazonAPIGatewayPushToCloudWatchLogs"));
      stageDependsOn.push(new ApiGatewayAccount(this, "api-gateway-account", { cloudwatchRoleArn: logsRole.roleArn, dependsOn: [logsPolicy] }));
    }

    const api = new KeyedRestApi(this, "serial-api-gateway", {
      apiName: `${names.prefix}-serials`,
      description: "Serial registry for fleet provisioning (API key required)",
      stageName: SERIAL_API_STAGE,
      handler: serialApi,
      routes: SERIAL_API_ROUTES,
      throttle: { rateLimitPerSecond: config.serialApi.rateLimitPerSecond, burstLimit: config.serialApi.burstLimit },
      quotaPerDay: config.serialApi.quotaPerDay,
      keyHolder: { usagePlanDescription: "CI registering serials", apiKeyDescription: "CI's key for the serial API" },
      accessLogGroupName: names.logGroup("api/serials-access"),
      logRetentionDays: config.logRetentionDays,
      sourceAccount: account.accountId,
      stageDependsOn,
    });

    this.exportOutputs({ serial_api_url: api.invokeUrl, serial_api_key_id: api.apiKey.id });
  }
}
