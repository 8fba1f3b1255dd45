import * as z from "zod/mini";

/**
 * The controller's settings, from its environment (on the instance: `/etc/controller/controller.env`,
 * written by the ec2 stack's user data from contracts/names.ts). Parsed once at start; a bad value
 * stops the process with a message naming it.
 */
const positiveInteger = (fallback: number) => z._default(z.coerce.number().check(z.int(), z.positive()), fallback);
/** 0 asks the OS for a free port (tests). */
const tcpPort = (fallback: number) => z._default(z.coerce.number().check(z.int(), z.minimum(0), z.maximum(65535)), fallback);

const settingsSchema = z.object({
  /** Secret with the controller's IoT identity (contracts/controller-identity.ts). */
  CONTROLLER_SECRET_ID: z.string().check(z.minLength(1)),
  /** Secret whose value is the bearer token of the HTTP API. */
  CONTROLLER_API_TOKEN_SECRET_ID: z.string().check(z.minLength(1)),
  /** DynamoDB device table (presence and last response per thing). */
  DEVICE_TABLE_NAME: z.string().check(z.minLength(1)),
  /** First levels of every device topic, e.g. `smarthome/dev`. */
  TOPIC_ROOT: z.string().check(z.minLength(1)),
  /** HTTP port (config `controller.port`). @default 8080 */
  PORT: tcpPort(8080),
  /** Address the HTTP server binds. In the container it must be every interface; the host publishes the port. @default 0.0.0.0 */
  HOST: z._default(z.string(), "0.0.0.0"),
  /** MQTT over TLS port of the IoT endpoint. @default 8883 (AWS IoT Core) */
  IOT_PORT: tcpPort(8883),
  /** How long POST /devices/{thing}/commands waits for the device by default. @default 5000 */
  COMMAND_TIMEOUT_MS: positiveInteger(5000),
  /** How long a SIGTERM waits for in-flight commands before disconnecting. @default 10000 */
  SHUTDOWN_GRACE_MS: positiveInteger(10000),
});

export type ControllerSettings = z.infer<typeof settingsSchema>;

export function parseSettings(environment: NodeJS.ProcessEnv): ControllerSettings {
  const result = settingsSchema.safeParse(environment);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
  throw new Error(`controller environment is invalid: ${problems.join("; ")}`);
}
