import type { Logger } from "@aws-lambda-powertools/logger";
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import { parseSerialApiRequest, SERIAL_API_ROUTES, type SerialApiOperation, type SerialApiRequest, type SerialApiRoute } from "../../contracts/serial-api";
import { getSerial, registerSerials, RegistryError, resetSerial, revokeSerial, type RegistryDependencies } from "./registry";

type Operations = { readonly [O in SerialApiOperation]: (request: SerialApiRequest<O>, deps: RegistryDependencies) => Promise<unknown> };

/** What each operation of the route table does; every answer is 200 with the result as JSON. */
const OPERATIONS: Operations = {
  registerSerials: async ({ body }, deps) => ({ results: await registerSerials(body, deps) }),
  getSerial: ({ serial }, deps) => getSerial(serial, deps),
  resetSerial: ({ serial }, deps) => resetSerial(serial, deps),
  revokeSerial: ({ serial }, deps) => revokeSerial(serial, deps),
};

const json = (statusCode: number, body: unknown): APIGatewayProxyResult => ({
  statusCode,
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});

/** Routes by API Gateway's resource path (`/serials/{serial}`), as the table deploys them. */
const ROUTES_BY_RESOURCE = new Map(SERIAL_API_ROUTES.map((route) => [`${route.method} ${route.path}`, route]));

/** The request's body as JSON; a message when there is none or it is not JSON. */
function readBody(event: APIGatewayProxyEvent): { json: unknown } | { message: string } {
  if (event.body === null || event.body === undefined || event.body === "") return { message: 'body is required: {"serials": ["SN123", …]}' };
  const text = event.isBase64Encoded ? Buffer.from(event.body, "base64").toString("utf8") : event.body;
  try {
    return { json: JSON.parse(text) };
  } catch {
    return { message: "body is not valid JSON" };
  }
}

async function dispatch<O extends SerialApiOperation>(route: SerialApiRoute<O>, event: APIGatewayProxyEvent, deps: RegistryDependencies): Promise<APIGatewayProxyResult> {
  const body = route.body ? readBody(event) : { json: undefined };
  if ("message" in body) return json(400, { message: body.message });
  const parsed = parseSerialApiRequest(route, { pathParameters: event.pathParameters, body: body.json });
  if (!parsed.success) return json(400, { message: parsed.message });
  const operation: Operations[O] = OPERATIONS[route.operation];
  return json(200, await operation(parsed.request, deps));
}

/**
 * The serial API behind API Gateway (Lambda proxy integration). API Gateway already checked the API
 * key and the body's JSON schema; every input is parsed again here with the route table's schemas.
 */
export function serialApi(deps: RegistryDependencies, logger: Logger): (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult> {
  const answer = async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    const route = ROUTES_BY_RESOURCE.get(`${event.httpMethod} ${event.resource}`);
    if (!route) return json(404, { message: `no route ${event.httpMethod} ${event.resource}` });
    try {
      return await dispatch(route, event, deps);
    } catch (error) {
      if (error instanceof RegistryError) return json(error.statusCode, { message: error.message });
      throw error;
    }
  };
  return async (event) => {
    try {
      const response = await answer(event);
      logger.info("request", { method: event?.httpMethod, resource: event?.resource, statusCode: response.statusCode });
      return response;
    } catch (error) {
      logger.error("request failed", { method: event?.httpMethod, resource: event?.resource, error: error instanceof Error ? error : new Error(String(error)) });
      return json(500, { message: "internal error; see the function's logs" });
    }
  };
}
