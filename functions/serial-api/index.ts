import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { IoTClient } from "@aws-sdk/client-iot";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import { serialApiEnvironment } from "../../contracts/function-environments";
import { registerSerialsRequestSchema, serialSchema } from "../../contracts/serial-registry";
import { createLogger, readEnvironment } from "../shared/runtime";
import { getSerial, registerSerials, RegistryError, resetSerial, revokeSerial, type RegistryDependencies } from "./registry";

/**
 * The serial API behind API Gateway (Lambda proxy integration). API Gateway already checked the API
 * key and the body's JSON schema; every input is validated again here with the same schemas.
 */
const environment = readEnvironment(serialApiEnvironment);
const logger = createLogger("serial-api");
const deps: RegistryDependencies = {
  documents: DynamoDBDocumentClient.from(new DynamoDBClient({})),
  iot: new IoTClient({}),
  serialTable: environment.SERIAL_TABLE,
  now: () => new Date(),
};

const json = (statusCode: number, body: unknown): APIGatewayProxyResult => ({
  statusCode,
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});

/** A 400 with a message that says what to fix. */
class BadRequest extends Error {}

function parseSerial(event: APIGatewayProxyEvent): string {
  const serial = serialSchema.safeParse(event.pathParameters?.serial ?? "");
  if (!serial.success) throw new BadRequest(`serial in the path ${serial.error.issues[0]?.message ?? "is invalid"}`);
  return serial.data;
}

function parseRegisterBody(event: APIGatewayProxyEvent) {
  if (event.body === null || event.body === undefined || event.body === "") throw new BadRequest('body is required: {"serials": ["SN123", …]}');
  const text = event.isBase64Encoded ? Buffer.from(event.body, "base64").toString("utf8") : event.body;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new BadRequest("body is not valid JSON");
  }
  const request = registerSerialsRequestSchema.safeParse(body);
  if (!request.success) {
    throw new BadRequest(request.error.issues.map((issue) => `${issue.path.join(".") || "body"}: ${issue.message}`).join("; "));
  }
  return request.data;
}

async function route(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  const key = `${event.httpMethod} ${event.resource}`;
  switch (key) {
    case "POST /serials":
      return json(200, { results: await registerSerials(parseRegisterBody(event), deps) });
    case "GET /serials/{serial}": {
      const serial = parseSerial(event);
      const record = await getSerial(serial, deps);
      return record ? json(200, record) : json(404, { message: `serial ${serial} is not registered` });
    }
    case "POST /serials/{serial}/reset":
      return json(200, await resetSerial(parseSerial(event), deps));
    case "DELETE /serials/{serial}":
      return json(200, await revokeSerial(parseSerial(event), deps));
    default:
      return json(404, { message: `no route ${key}` });
  }
}

export async function handler(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  try {
    const response = await route(event);
    logger.info("request", { method: event?.httpMethod, resource: event?.resource, statusCode: response.statusCode });
    return response;
  } catch (error) {
    if (error instanceof BadRequest) return json(400, { message: error.message });
    if (error instanceof RegistryError) return json(error.statusCode, { message: error.message });
    logger.error("request failed", { method: event?.httpMethod, resource: event?.resource, error: error as Error });
    return json(500, { message: "internal error; see the function's logs" });
  }
}
