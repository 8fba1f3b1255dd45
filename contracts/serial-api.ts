import * as z from "zod/mini";
import { registerSerialsRequestJsonSchema, registerSerialsRequestSchema, serialSchema } from "./serial-registry";

/**
 * The serial API's route table: the api stack deploys these routes (API Gateway checks the API key,
 * the path parameters and the body model), the Lambda dispatches on them, the CLI builds its calls
 * from them and the local API Gateway serves them.
 */

/** Each `{name}` segment a route may have, with the schema its value is parsed with. */
export const SERIAL_API_PATH_PARAMETERS = { serial: serialSchema } as const;
export type SerialApiPathParameter = keyof typeof SERIAL_API_PATH_PARAMETERS;

interface RouteSpec {
  readonly method: "GET" | "POST" | "DELETE";
  /** API Gateway resource path; `{name}` segments are the route's path parameters. */
  readonly path: string;
  readonly pathParameters: readonly SerialApiPathParameter[];
  /** The body's schema, and the name of the API Gateway model it becomes. */
  readonly body?: { readonly model: string; readonly schema: typeof registerSerialsRequestSchema; readonly jsonSchema: () => Record<string, unknown> };
}

/** Operation → route. Order matters: the api stack deploys the routes in this order. */
const ROUTES = {
  registerSerials: {
    method: "POST",
    path: "/serials",
    pathParameters: [],
    body: { model: "RegisterSerials", schema: registerSerialsRequestSchema, jsonSchema: registerSerialsRequestJsonSchema },
  },
  getSerial: { method: "GET", path: "/serials/{serial}", pathParameters: ["serial"] },
  resetSerial: { method: "POST", path: "/serials/{serial}/reset", pathParameters: ["serial"] },
  revokeSerial: { method: "DELETE", path: "/serials/{serial}", pathParameters: ["serial"] },
} as const satisfies Record<string, RouteSpec>;

type Routes = typeof ROUTES;
export type SerialApiOperation = keyof Routes;

/** What an operation receives once its path parameters and body are parsed. */
export type SerialApiRequest<O extends SerialApiOperation> = { readonly [P in Routes[O]["pathParameters"][number]]: string } & (Routes[O] extends {
  body: { schema: infer S extends z.ZodMiniType };
}
  ? { readonly body: z.output<S> }
  : unknown);

export interface SerialApiRoute<O extends SerialApiOperation = SerialApiOperation> {
  readonly operation: O;
  readonly method: Routes[O]["method"];
  readonly path: string;
  readonly pathParameters: readonly SerialApiPathParameter[];
  /** The body's zod schema, which the function parses with. */
  readonly body?: z.ZodMiniType;
  /** The body's JSON schema (draft-04) API Gateway validates with, as the keyed REST API module takes it. */
  readonly bodySchema?: { readonly name: string; readonly schema: Record<string, unknown> };
}

function route<O extends SerialApiOperation>(operation: O): SerialApiRoute<O> {
  const spec: RouteSpec = ROUTES[operation];
  return {
    operation,
    method: ROUTES[operation].method,
    path: spec.path,
    pathParameters: spec.pathParameters,
    ...(spec.body ? { body: spec.body.schema, bodySchema: { name: spec.body.model, schema: spec.body.jsonSchema() } } : {}),
  };
}

/** One route per operation, by operation. */
export const SERIAL_API: { readonly [O in SerialApiOperation]: SerialApiRoute<O> } = {
  registerSerials: route("registerSerials"),
  getSerial: route("getSerial"),
  resetSerial: route("resetSerial"),
  revokeSerial: route("revokeSerial"),
};

/** Every route, in deployment order. */
export const SERIAL_API_ROUTES: readonly SerialApiRoute[] = (Object.keys(ROUTES) as SerialApiOperation[]).map((operation) => SERIAL_API[operation]);

/** A route's path with its parameters filled in (URL-encoded), e.g. `/serials/SN123/reset`. */
export function serialApiPath<O extends SerialApiOperation>(route: SerialApiRoute<O>, parameters: { readonly [P in SerialApiPathParameter]?: string }): string {
  return route.path.replace(/\{(\w+)\}/g, (_segment, name: string) => {
    const value = parameters[name as SerialApiPathParameter];
    if (value === undefined) throw new Error(`${route.operation}: path parameter ${name} is missing`);
    return encodeURIComponent(value);
  });
}

export type ParsedSerialApiRequest<O extends SerialApiOperation> = { success: true; request: SerialApiRequest<O> } | { success: false; message: string };

/**
 * Parses a request for a route: each path parameter with its schema, the body (already JSON) with
 * the route's schema. The message says what to fix.
 */
export function parseSerialApiRequest<O extends SerialApiOperation>(
  route: SerialApiRoute<O>,
  input: { readonly pathParameters: Readonly<Record<string, string | undefined>> | null; readonly body: unknown },
): ParsedSerialApiRequest<O> {
  const request: Record<string, unknown> = {};
  for (const name of route.pathParameters) {
    const value = SERIAL_API_PATH_PARAMETERS[name].safeParse(input.pathParameters?.[name] ?? "");
    if (!value.success) return { success: false, message: `${name} in the path ${value.error.issues[0]?.message ?? "is invalid"}` };
    request[name] = value.data;
  }
  if (route.body) {
    const body = route.body.safeParse(input.body);
    if (!body.success) return { success: false, message: body.error.issues.map((issue) => `${issue.path.join(".") || "body"}: ${issue.message}`).join("; ") };
    request.body = body.data;
  }
  // Every key SerialApiRequest<O> names was parsed above, from the same table it is typed from.
  return { success: true, request: request as SerialApiRequest<O> };
}
