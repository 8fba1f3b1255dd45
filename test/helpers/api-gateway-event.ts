import type { APIGatewayProxyEvent } from "aws-lambda";

/** A REST API (v1) Lambda proxy event, as API Gateway sends it. */
export function apiGatewayEvent(method: string, resource: string, options: { path?: string; pathParameters?: Record<string, string>; body?: string | null } = {}): APIGatewayProxyEvent {
  const path = options.path ?? resource;
  return {
    httpMethod: method,
    resource,
    path,
    body: options.body ?? null,
    isBase64Encoded: false,
    headers: { "content-type": "application/json", "x-api-key": "test-key" },
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: options.pathParameters ?? null,
    stageVariables: null,
    requestContext: {
      accountId: "123456789012",
      apiId: "abc123",
      authorizer: null,
      httpMethod: method,
      identity: { apiKey: "test-key", apiKeyId: "key-1", sourceIp: "192.0.2.1" } as APIGatewayProxyEvent["requestContext"]["identity"],
      path: `/v1${path}`,
      protocol: "HTTP/1.1",
      requestId: `request-${Math.random().toString(16).slice(2)}`,
      requestTimeEpoch: Date.now(),
      resourceId: "res",
      resourcePath: resource,
      stage: "v1",
    },
  };
}
