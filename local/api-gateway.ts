import Ajv from "ajv-draft-04";
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import { LOCAL_ACCOUNT_ID } from "../config";
import { readBody } from "./http";

/** A route as the keyed REST API module deploys it (contracts/serial-api.ts SERIAL_API_ROUTES is one table of them). */
export interface LocalRoute {
  readonly method: string;
  /** API Gateway resource path, e.g. `/serials/{serial}/reset`. */
  readonly path: string;
  /** The model API Gateway validates the body against (draft-04 JSON schema). */
  readonly bodySchema?: { readonly schema: Record<string, unknown> };
}

export interface LocalApiGatewayOptions {
  readonly stage: string;
  readonly apiKey: string;
  readonly routes: readonly LocalRoute[];
  readonly handler: (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;
  /** Account id in the proxy event's request context. @default LOCAL_ACCOUNT_ID */
  readonly accountId?: string;
}

/**
 * A local stand-in for a REST API Gateway stage in front of a Lambda proxy integration: checks the
 * `x-api-key` header (403 as API Gateway answers), validates bodies against the route's model (400
 * with the reason), and hands the real handler the proxy event API Gateway would build.
 */
export function createLocalApiGateway(options: LocalApiGatewayOptions): Server {
  const ajv = new Ajv({ allErrors: true });
  const routes = options.routes.map((route) => ({
    ...route,
    pattern: new RegExp(`^${route.path.replace(/\{(\w+)\}/g, "(?<$1>[^/]+)")}$`),
    validate: route.bodySchema ? ajv.compile(route.bodySchema.schema) : undefined,
  }));
  return createServer(async (request, response) => {
    const send = (statusCode: number, body: string, headers: Record<string, string> = { "content-type": "application/json" }) => {
      response.writeHead(statusCode, { ...headers, "x-amzn-requestid": randomUUID() }).end(body);
    };
    const url = new URL(request.url ?? "/", "http://local");
    const stagePrefix = `/${options.stage}`;
    const path = url.pathname.startsWith(`${stagePrefix}/`) ? url.pathname.slice(stagePrefix.length) : undefined;
    const matches = path === undefined ? [] : routes.map((route) => ({ route, match: route.pattern.exec(path) })).filter(({ match }) => match);
    const found = matches.find(({ route }) => route.method === request.method);
    if (!found || path === undefined) return send(403, JSON.stringify({ message: "Missing Authentication Token" }));
    if (request.headers["x-api-key"] !== options.apiKey) return send(403, JSON.stringify({ message: "Forbidden" }));

    const body = await readBody(request);
    if (found.route.validate) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        return send(400, JSON.stringify({ message: "invalid request body: body is not JSON" }));
      }
      if (!found.route.validate(parsed)) {
        return send(400, JSON.stringify({ message: `invalid request body: ${ajv.errorsText(found.route.validate.errors)}` }));
      }
    }
    const pathParameters = found.match?.groups ? Object.fromEntries(Object.entries(found.match.groups).map(([name, value]) => [name, decodeURIComponent(value)])) : null;
    const result = await options.handler({
      httpMethod: request.method ?? "GET",
      resource: found.route.path,
      path,
      body: body === "" ? null : body,
      isBase64Encoded: false,
      headers: Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, String(value)])),
      multiValueHeaders: {},
      queryStringParameters: url.searchParams.size ? Object.fromEntries(url.searchParams) : null,
      multiValueQueryStringParameters: null,
      pathParameters,
      stageVariables: null,
      requestContext: {
        accountId: options.accountId ?? LOCAL_ACCOUNT_ID,
        apiId: "local",
        authorizer: null,
        httpMethod: request.method ?? "GET",
        identity: { sourceIp: request.socket.remoteAddress ?? "" } as APIGatewayProxyEvent["requestContext"]["identity"],
        path: url.pathname,
        protocol: "HTTP/1.1",
        requestId: randomUUID(),
        requestTimeEpoch: Date.now(),
        resourceId: "local",
        resourcePath: found.route.path,
        stage: options.stage,
      },
    });
    send(result.statusCode, result.body, Object.fromEntries(Object.entries(result.headers ?? {}).map(([name, value]) => [name, String(value)])));
  });
}
