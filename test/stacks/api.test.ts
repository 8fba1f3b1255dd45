import { registerSerialsRequestJsonSchema } from "../../contracts/serial-registry";
import { SERIAL_API_ROUTES, type SerialApiRoute } from "../../contracts/serial-api";
import { onlyResource, resources, statements, synthAll, testConfig } from "../helpers/synth";

const api = synthAll().api;

describe("api stack: the serial API", () => {
  const methods = Object.values(resources(api, "aws_api_gateway_method"));

  it("serves POST /serials, GET /serials/{serial}, POST /serials/{serial}/reset and DELETE /serials/{serial}", () => {
    expect(methods.map((m) => m.http_method).sort()).toEqual(["DELETE", "GET", "POST", "POST"]);
    expect(Object.values(resources(api, "aws_api_gateway_resource")).map((r) => r.path_part).sort()).toEqual(["reset", "serials", "{serial}"]);
  });

  it("#8.16 CKV_AWS_59 / CKV2_AWS_70: every method requires the API key", () => {
    expect(methods.length).toBe(4);
    for (const method of methods) expect(method.api_key_required).toBe(true);
  });

  it("#8.11 the account's API Gateway settings (one per account and region) are set only by the environment that manages them", () => {
    expect(Object.keys(resources(api, "aws_api_gateway_account")).length).toBe(1);
    const shared = synthAll(testConfig({ serialApi: { manageAccountLogging: false } })).api;
    expect(resources(shared, "aws_api_gateway_account")).toEqual({});
    expect(Object.values(resources(shared, "aws_iam_role")).map((role) => role.name)).not.toContain("smarthome-dev-api-gateway-logs");
    const stage = onlyResource(shared, "aws_api_gateway_stage");
    expect(stage.depends_on ?? []).toEqual([]);
    expect(stage.access_log_settings.destination_arn).toMatch(/aws_cloudwatch_log_group/);
  });

  it("CKV2_AWS_53: every method has a request validator; POST /serials validates its body against the contract's schema", () => {
    for (const method of methods) expect(method.request_validator_id).toMatch(/aws_api_gateway_request_validator/);
    const model = onlyResource(api, "aws_api_gateway_model");
    expect(JSON.parse(model.schema)).toEqual(registerSerialsRequestJsonSchema());
    const withBody = methods.filter((m) => m.request_models);
    expect(withBody).toHaveLength(1);
    expect(withBody[0].request_models).toEqual({ "application/json": expect.stringMatching(/aws_api_gateway_model/) });
    const pathMethods = methods.filter((m) => !m.request_models);
    for (const method of pathMethods) expect(method.request_parameters).toEqual({ "method.request.path.serial": true });
  });

  it("answers a body or parameter that fails validation with a 400 that says why", () => {
    const responses = Object.values(resources(api, "aws_api_gateway_gateway_response"));
    expect(responses.map((r) => [r.response_type, r.status_code]).sort()).toEqual([
      ["BAD_REQUEST_BODY", "400"],
      ["BAD_REQUEST_PARAMETERS", "400"],
    ]);
    expect(responses[0].response_templates["application/json"]).toContain("$context.error.validationErrorString");
  });

  it("#8.10 integrates every method with the serial-api function (Lambda proxy), with no passthroughBehavior (it means nothing there)", () => {
    const integrations = Object.values(resources(api, "aws_api_gateway_integration"));
    expect(integrations.length).toBe(4);
    for (const integration of integrations) {
      expect(integration).toMatchObject({ type: "AWS_PROXY", integration_http_method: "POST", uri: expect.stringMatching(/aws_lambda_function\.serial-api.+\.invoke_arn/) });
      expect(integration).not.toHaveProperty("passthrough_behavior");
    }
  });

  it("throttles and caps the API key with a usage plan", () => {
    expect(onlyResource(api, "aws_api_gateway_usage_plan")).toMatchObject({
      throttle_settings: { rate_limit: 5, burst_limit: 10 },
      quota_settings: { limit: 5000, period: "DAY" },
    });
    expect(onlyResource(api, "aws_api_gateway_usage_plan_key")).toMatchObject({ key_type: "API_KEY" });
  });

  it("CKV_AWS_76: the stage writes access logs to a log group with retention", () => {
    const stage = onlyResource(api, "aws_api_gateway_stage");
    expect(stage.stage_name).toBe("v1");
    expect(stage.access_log_settings.destination_arn).toMatch(/aws_cloudwatch_log_group\..+access-logs.+\.arn/);
    expect(JSON.parse(stage.access_log_settings.format)).toMatchObject({ requestId: "$context.requestId", status: "$context.status", apiKeyId: "$context.identity.apiKeyId" });
    expect(stage.depends_on).toEqual([expect.stringMatching(/aws_api_gateway_account/)]);
    expect(onlyResource(api, "aws_api_gateway_method_settings").settings).toMatchObject({ metrics_enabled: true, data_trace_enabled: false });
  });

  it("#8.2 the deployment comes after every gateway response, method and integration, and redeploys when any of their settings change", () => {
    const deployment = onlyResource(api, "aws_api_gateway_deployment");
    expect(deployment.lifecycle).toEqual({ create_before_destroy: true });
    const ids = (type: string) => Object.keys(resources(api, type)).map((id) => `${type}.${id}`);
    const responses = ids("aws_api_gateway_gateway_response");
    const methods = ids("aws_api_gateway_method");
    const integrations = ids("aws_api_gateway_integration");
    expect([responses.length, methods.length, integrations.length]).toEqual([2, 4, 4]);
    expect(deployment.depends_on).toEqual(expect.arrayContaining([...responses, ...methods, ...integrations]));
    // The trigger hashes the deployed settings from the configuration (never attributes the provider
    // reads back, which made a perpetual redeploy under npm run emulate), plus references to what
    // only exists in AWS: the function and the two validators.
    const trigger: string = deployment.triggers.redeployment;
    expect(Object.keys(deployment.triggers)).toEqual(["redeployment"]);
    const [, settingsHash, references] = /^\$\{sha1\(jsonencode\(\["([0-9a-f]{40})", (.*)\]\)\)\}$/.exec(trigger) ?? [];
    expect(settingsHash).toBeDefined();
    expect(references!.split(", ")).toEqual([
      expect.stringMatching(/^aws_lambda_function\.[^.]+\.invoke_arn$/),
      expect.stringMatching(/^aws_api_gateway_request_validator\.[^.]+validate-body[^.]*\.id$/),
      expect.stringMatching(/^aws_api_gateway_request_validator\.[^.]+validate-parameters[^.]*\.id$/),
    ]);
    // A route's settings change → another hash → a new deployment; the same settings → the same hash.
    const again = onlyResource(synthAll(testConfig()).api, "aws_api_gateway_deployment").triggers.redeployment;
    expect(again).toBe(trigger);
    const routes = SERIAL_API_ROUTES as SerialApiRoute[];
    const original = routes[1]!;
    routes[1] = { ...original, path: `${original.path}/x` };
    try {
      expect(onlyResource(synthAll(testConfig()).api, "aws_api_gateway_deployment").triggers.redeployment).not.toBe(trigger);
    } finally {
      routes[1] = original;
    }
  });

  it("the function may use only the serial registry and the devices' things and certificates", () => {
    const allowed = Object.values(resources(api, "aws_iam_role_policy")).flatMap((p) => statements(JSON.parse(p.policy)));
    const bySid = Object.fromEntries(allowed.map((s) => [s.Sid, s]));
    // Granted through a TableReference of the iot-fleet stack's outputs (modules/project-table.ts).
    expect(bySid.ReadWriteItems?.Resource).toEqual(["${data.terraform_remote_state.remote-state-iot-fleet.outputs.serial_table_arn}"]);
    expect(bySid.ReadWriteItems?.Action).toEqual(["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]);
    expect(bySid.DeviceThings?.Resource).toEqual([expect.stringMatching(/:thing\/smarthome-dev-\*$/)]);
  });

  it("CKV_AWS_364: API Gateway may invoke the function only from this API's stage, in this account", () => {
    const permission = Object.values(resources(api, "aws_lambda_permission")).find((p) => p.principal === "apigateway.amazonaws.com");
    expect(permission).toMatchObject({ source_arn: expect.stringMatching(/aws_api_gateway_rest_api\..+\.execution_arn\}\/v1\/\*\/\*$/), source_account: expect.stringMatching(/aws_caller_identity/) });
  });

  it("exports the URL and the API key's id (never its value)", () => {
    expect(Object.keys(api.output ?? {}).sort()).toEqual(["serial_api_key_id", "serial_api_url"]);
    expect(api.output?.serial_api_key_id?.value).toMatch(/aws_api_gateway_api_key\..+\.id/);
  });
});
