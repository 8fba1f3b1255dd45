import { createHash } from "node:crypto";
import { ApiGatewayApiKey } from "@cdktf/provider-aws/lib/api-gateway-api-key";
import { ApiGatewayDeployment } from "@cdktf/provider-aws/lib/api-gateway-deployment";
import { ApiGatewayGatewayResponse } from "@cdktf/provider-aws/lib/api-gateway-gateway-response";
import { ApiGatewayIntegration } from "@cdktf/provider-aws/lib/api-gateway-integration";
import { ApiGatewayMethod } from "@cdktf/provider-aws/lib/api-gateway-method";
import { ApiGatewayMethodSettings } from "@cdktf/provider-aws/lib/api-gateway-method-settings";
import { ApiGatewayModel } from "@cdktf/provider-aws/lib/api-gateway-model";
import { ApiGatewayRequestValidator } from "@cdktf/provider-aws/lib/api-gateway-request-validator";
import { ApiGatewayResource } from "@cdktf/provider-aws/lib/api-gateway-resource";
import { ApiGatewayRestApi } from "@cdktf/provider-aws/lib/api-gateway-rest-api";
import { ApiGatewayStage } from "@cdktf/provider-aws/lib/api-gateway-stage";
import { ApiGatewayUsagePlan } from "@cdktf/provider-aws/lib/api-gateway-usage-plan";
import { ApiGatewayUsagePlanKey } from "@cdktf/provider-aws/lib/api-gateway-usage-plan-key";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { Fn, type ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import type { NodejsFunction } from "./nodejs-function";

export interface KeyedRoute {
  readonly method: "GET" | "POST" | "PUT" | "DELETE";
  /** e.g. `/items/{id}/reset`; `{name}` segments are required path parameters. */
  readonly path: string;
  /** JSON schema (draft-04) the body must match, checked by API Gateway before the function runs. */
  readonly bodySchema?: { readonly name: string; readonly schema: Record<string, unknown> };
}

export interface KeyedRestApiProps {
  readonly apiName: string;
  readonly description: string;
  readonly stageName: string;
  /** Every route is served by this function (Lambda proxy integration). */
  readonly handler: NodejsFunction;
  readonly routes: readonly KeyedRoute[];
  readonly throttle: { readonly rateLimitPerSecond: number; readonly burstLimit: number };
  readonly quotaPerDay: number;
  /** Who holds the one API key, for the key's and the usage plan's descriptions. */
  readonly keyHolder: { readonly usagePlanDescription: string; readonly apiKeyDescription: string };
  /** Log group of the stage's access logs. */
  readonly accessLogGroupName: string;
  readonly logRetentionDays: number;
  readonly sourceAccount: string;
  /**
   * What must exist before the stage logs, such as the account's API Gateway logging role.
   * @default - nothing
   */
  readonly stageDependsOn?: ITerraformDependable[];
}

/**
 * A regional REST API where every method requires an API key, bodies and path parameters are
 * validated at the gateway (400 with the reason), requests are throttled by a usage plan, and every
 * request is access-logged. An API key identifies a caller; it is not strong authentication (see
 * docs/fleet.md).
 */
export class KeyedRestApi extends Construct {
  readonly api: ApiGatewayRestApi;
  readonly stage: ApiGatewayStage;
  readonly apiKey: ApiGatewayApiKey;
  readonly invokeUrl: string;

  constructor(scope: Construct, id: string, props: KeyedRestApiProps) {
    super(scope, id);
    this.api = new ApiGatewayRestApi(this, "api", {
      name: props.apiName,
      description: props.description,
      endpointConfiguration: { types: ["REGIONAL"] },
      apiKeySource: "HEADER",
    });
    const validateBody = new ApiGatewayRequestValidator(this, "validate-body", {
      restApiId: this.api.id,
      name: "body-and-parameters",
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    const validateParameters = new ApiGatewayRequestValidator(this, "validate-parameters", {
      restApiId: this.api.id,
      name: "parameters",
      validateRequestParameters: true,
    });

    const resources = new Map<string, ApiGatewayResource>();
    const resourceFor = (path: string): string => {
      if (path === "/") return this.api.rootResourceId;
      const existing = resources.get(path);
      if (existing) return existing.id;
      const parentPath = path.slice(0, path.lastIndexOf("/")) || "/";
      const resource = new ApiGatewayResource(this, `resource${path.replace(/[{}]/g, "").replace(/\//g, "-")}`, {
        restApiId: this.api.id,
        parentId: resourceFor(parentPath),
        pathPart: path.slice(path.lastIndexOf("/") + 1),
      });
      resources.set(path, resource);
      return resource.id;
    };

    const routeConstructs: Construct[] = [];
    // What a deployment snapshots: a change to any of it needs a new deployment. Hashed from the
    // configuration at synth, never from attributes the provider reads back: a computed or normalized value
    // (an unset timeout that comes back as 29000, unset parameters that come back as {}) would
    // change the hash on every refresh, a perpetual redeploy (found by npm run emulate).
    const deployedSettings: Record<string, unknown>[] = [];
    for (const route of props.routes) {
      const key = `${route.method}${route.path.replace(/[{}]/g, "").replace(/\//g, "-")}`;
      const parameters = Object.fromEntries([...route.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => [`method.request.path.${name}`, true]));
      const model = route.bodySchema
        ? new ApiGatewayModel(this, `model-${route.bodySchema.name}`, {
            restApiId: this.api.id,
            name: route.bodySchema.name,
            contentType: "application/json",
            schema: JSON.stringify(route.bodySchema.schema),
          })
        : undefined;
      const methodSettings = { httpMethod: route.method, authorization: "NONE", apiKeyRequired: true, requestParameters: parameters };
      const method = new ApiGatewayMethod(this, `method-${key}`, {
        restApiId: this.api.id,
        resourceId: resourceFor(route.path),
        ...methodSettings,
        requestValidatorId: model ? validateBody.id : validateParameters.id,
        requestModels: model ? { "application/json": model.name } : undefined,
      });
      const integrationSettings = { type: "AWS_PROXY", integrationHttpMethod: "POST" };
      const integration = new ApiGatewayIntegration(this, `integration-${key}`, {
        restApiId: this.api.id,
        resourceId: method.resourceId,
        httpMethod: method.httpMethod,
        ...integrationSettings,
        uri: props.handler.function.invokeArn,
        // No passthroughBehavior: it only applies to mapping templates, which a proxy integration has none of.
      });
      routeConstructs.push(method, integration, ...(model ? [model] : []));
      deployedSettings.push({
        route: `${route.method} ${route.path}`,
        ...methodSettings,
        validator: model ? "body" : "parameters",
        ...(route.bodySchema ? { model: route.bodySchema } : {}),
        integration: integrationSettings,
      });
    }

    const gatewayResponses = (
      [
        ["BAD_REQUEST_BODY", "invalid request body: $context.error.validationErrorString"],
        ["BAD_REQUEST_PARAMETERS", "missing request parameters: $context.error.validationErrorString"],
      ] as const
    ).map(([responseType, reason]) => {
      const responseSettings = { responseType, statusCode: "400", responseTemplates: { "application/json": `{"message":"${reason}"}` } };
      deployedSettings.push(responseSettings);
      return new ApiGatewayGatewayResponse(this, `response-${responseType}`, { restApiId: this.api.id, ...responseSettings });
    });

    // A deployment is a snapshot of the API: it must come after every method, integration and
    // gateway response (else the first stage serves without the custom 400s), and be replaced when
    // any of their settings change, not only when a route is added (Terraform's
    // aws_api_gateway_deployment docs: "triggers" with a hash of the resources it depends on).
    const deployment = new ApiGatewayDeployment(this, "deployment", {
      restApiId: this.api.id,
      // The plain settings are hashed here; what only exists in AWS (the function, the validators)
      // joins by reference, whose values never change once created.
      triggers: {
        redeployment: Fn.sha1(
          Fn.jsonencode([
            createHash("sha1").update(JSON.stringify(deployedSettings)).digest("hex"),
            props.handler.function.invokeArn,
            validateBody.id,
            validateParameters.id,
          ]),
        ),
      },
      // The stage switches to the new deployment before the old one goes.
      lifecycle: { createBeforeDestroy: true },
      dependsOn: [...routeConstructs, ...gatewayResponses] as never[],
    });
    const accessLogs = new CloudwatchLogGroup(this, "access-logs", {
      name: props.accessLogGroupName,
      retentionInDays: props.logRetentionDays,
    });
    this.stage = new ApiGatewayStage(this, "stage", {
      restApiId: this.api.id,
      deploymentId: deployment.id,
      stageName: props.stageName,
      accessLogSettings: {
        destinationArn: accessLogs.arn,
        format: JSON.stringify({
          requestId: "$context.requestId",
          ip: "$context.identity.sourceIp",
          apiKeyId: "$context.identity.apiKeyId",
          requestTime: "$context.requestTime",
          method: "$context.httpMethod",
          path: "$context.resourcePath",
          status: "$context.status",
          error: "$context.error.message",
          latencyMs: "$context.responseLatency",
        }),
      },
      dependsOn: props.stageDependsOn,
    });
    this.invokeUrl = this.stage.invokeUrl;
    new ApiGatewayMethodSettings(this, "method-settings", {
      restApiId: this.api.id,
      stageName: this.stage.stageName,
      methodPath: "*/*",
      settings: {
        metricsEnabled: true,
        loggingLevel: "ERROR",
        dataTraceEnabled: false,
        throttlingRateLimit: props.throttle.rateLimitPerSecond,
        throttlingBurstLimit: props.throttle.burstLimit,
      },
    });

    const plan = new ApiGatewayUsagePlan(this, "usage-plan", {
      name: `${props.apiName}-ci`,
      description: props.keyHolder.usagePlanDescription,
      apiStages: [{ apiId: this.api.id, stage: this.stage.stageName }],
      throttleSettings: { rateLimit: props.throttle.rateLimitPerSecond, burstLimit: props.throttle.burstLimit },
      quotaSettings: { limit: props.quotaPerDay, period: "DAY" },
    });
    this.apiKey = new ApiGatewayApiKey(this, "api-key", { name: `${props.apiName}-ci`, description: props.keyHolder.apiKeyDescription, enabled: true });
    new ApiGatewayUsagePlanKey(this, "usage-plan-key", { keyId: this.apiKey.id, keyType: "API_KEY", usagePlanId: plan.id });

    props.handler.grantInvoke("api-gateway", {
      principal: "apigateway.amazonaws.com",
      sourceArn: `${this.api.executionArn}/${props.stageName}/*/*`,
      sourceAccount: props.sourceAccount,
    });
  }
}
