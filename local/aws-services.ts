import { createHash, randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import dynalite from "dynalite";
import { readBody } from "./http";
import { CERTIFICATE_STATUSES, IotRegistry } from "./iot-registry";
import { environments, LOCAL_ACCOUNT_ID } from "../config";

/**
 * Local counterparts of the AWS services the functions call, on loopback:
 * - DynamoDB: dynalite (a real implementation, in memory);
 * - SNS Publish (query protocol), SQS SendMessage (JSON 1.0) and Secrets Manager GetSecretValue
 *   (JSON 1.1): a small recorder speaking each wire protocol, because no free local implementation
 *   of them runs here. It keeps what was sent and can be told to fail.
 * - the IoT registry calls the functions make (REST JSON: DescribeThing, ListThingPrincipals,
 *   DetachThingPrincipal, DeleteThing, UpdateCertificate), served from one IotRegistry: the same
 *   registry the local broker and fleet provisioning use, when the caller passes it.
 *
 * The real SDK clients talk to it through the standard AWS_ENDPOINT_URL_<SERVICE> variables.
 */
/** Where the stand-ins say they run. */
export interface LocalAccountRegion {
  readonly accountId: string;
  readonly region: string;
}

export interface AwsStandInOptions {
  /** @default - LOCAL_ACCOUNT_ID in the region of the dev environment (config/environments/dev.ts) */
  account?: LocalAccountRegion;
  /** The IoT registry the IoT calls act on. @default - a new, empty registry in `account` */
  iot?: IotRegistry;
  /** Called for each SNS Publish after it is recorded (the local alert sink). */
  onPublish?(message: { topicArn: string; subject?: string; message: string }): void;
  /** Called for each SQS SendMessage after it is recorded (local event source mappings). */
  onSendMessage?(message: { queueUrl: string; body: string; delaySeconds?: number; messageId: string }): void;
}

/** An SDK client's configuration for one stand-in: its endpoint, the region and throwaway credentials. */
export interface StandInClientConfig {
  readonly endpoint: string;
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

export type StandInService = "dynamodb" | "sns" | "sqs" | "secretsManager" | "iot";

export interface AwsStandIn {
  /** The standard AWS_ENDPOINT_URL_<SERVICE>, region and credential variables, for a child process. */
  readonly env: Record<string, string>;
  /** For an SDK client in this process (no process.env involved): `new DynamoDBClient(standIn.clientConfig("dynamodb"))`. */
  clientConfig(service: StandInService): StandInClientConfig;
  readonly published: { topicArn: string; subject?: string; message: string; messageStructure?: string }[];
  readonly sentMessages: { queueUrl: string; body: string; delaySeconds?: number }[];
  readonly secrets: Map<string, string>;
  /** The IoT registry the IoT calls act on. */
  readonly iot: IotRegistry;
  /** Fail the next N publishes with an error the SDK does not retry (403 AuthorizationError). */
  failNextPublishes(count: number): void;
  close(): Promise<void>;
}

/**
 * What SNS Publish answers to a message it refuses, or undefined. With `MessageStructure=json` the
 * message must be a JSON object with a top-level string "default" (SNS API reference, Publish,
 * MessageStructure); AWS IoT's SNS action with `messageFormat: "JSON"` publishes that way.
 */
export function snsMessageStructureError(message: string, messageStructure: string | undefined): string | undefined {
  if (messageStructure !== "json") return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch {
    return "InvalidParameter: Invalid parameter: Message Structure - JSON message body failed to parse";
  }
  if (!parsed || typeof parsed !== "object" || typeof (parsed as Record<string, unknown>).default !== "string") {
    return "InvalidParameter: Invalid parameter: Message Structure - No default entry in JSON message body";
  }
  return undefined;
}

export async function startAwsStandIn(options: AwsStandInOptions = {}): Promise<AwsStandIn> {
  const account = options.account ?? { accountId: LOCAL_ACCOUNT_ID, region: environments.dev!.region };
  const dynamo = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await listen(dynamo);
  const published: AwsStandIn["published"] = [];
  const sentMessages: AwsStandIn["sentMessages"] = [];
  const secrets = new Map<string, string>();
  let publishFailures = 0;
  const iot = options.iot ?? new IotRegistry(account.accountId, account.region);

  const services = createServer(async (request, response) => {
    const body = await readBody(request);
    const target = String(request.headers["x-amz-target"] ?? "");
    const json = (status: number, payload: unknown, type = "application/x-amz-json-1.0") => {
      response.writeHead(status, { "content-type": type, "x-amzn-requestid": randomUUID() }).end(JSON.stringify(payload));
    };
    if (target === "AmazonSQS.SendMessage") {
      const input = JSON.parse(body) as { QueueUrl: string; MessageBody: string; DelaySeconds?: number };
      const messageId = randomUUID();
      sentMessages.push({ queueUrl: input.QueueUrl, body: input.MessageBody, delaySeconds: input.DelaySeconds });
      options.onSendMessage?.({ queueUrl: input.QueueUrl, body: input.MessageBody, delaySeconds: input.DelaySeconds, messageId });
      return json(200, { MessageId: messageId, MD5OfMessageBody: createHash("md5").update(input.MessageBody).digest("hex") });
    }
    if (target === "secretsmanager.GetSecretValue") {
      const { SecretId } = JSON.parse(body) as { SecretId: string };
      const value = secrets.get(SecretId);
      if (value === undefined) {
        return json(400, { __type: "ResourceNotFoundException", Message: "Secrets Manager can't find the specified secret." }, "application/x-amz-json-1.1");
      }
      return json(200, { ARN: `arn:aws:secretsmanager:${account.region}:${account.accountId}:secret:${SecretId}-AbCdEf`, Name: SecretId, SecretString: value, VersionId: randomUUID() }, "application/x-amz-json-1.1");
    }
    const url = new URL(request.url ?? "/", "http://stand-in");
    const iotError = (status: number, type: string, message: string) => {
      response.writeHead(status, { "content-type": "application/json", "x-amzn-errortype": type }).end(JSON.stringify({ message }));
    };
    const thingPath = /^\/things\/([^/]+)(\/principals)?$/.exec(url.pathname);
    if (thingPath) {
      const thingName = decodeURIComponent(thingPath[1]!);
      const principals = iot.listThingPrincipals(thingName);
      if (!principals) return iotError(404, "ResourceNotFoundException", `thing ${thingName} does not exist`);
      if (thingPath[2] && request.method === "GET") return json(200, { principals }, "application/json");
      if (!thingPath[2] && request.method === "GET") return json(200, { thingName, defaultClientId: thingName, attributes: {}, version: 1 }, "application/json");
      if (thingPath[2] && request.method === "DELETE") {
        iot.detachThingPrincipal(thingName, String(request.headers["x-amzn-principal"]));
        return json(200, {}, "application/json");
      }
      if (!thingPath[2] && request.method === "DELETE") {
        if (!iot.deleteThing(thingName)) return iotError(400, "InvalidRequestException", "detach the thing's principals first");
        return json(200, {}, "application/json");
      }
    }
    const certificatePath = /^\/certificates\/([0-9a-f]+)$/.exec(url.pathname);
    if (certificatePath && request.method === "PUT") {
      const id = certificatePath[1]!;
      const newStatus = CERTIFICATE_STATUSES.find((status) => status === url.searchParams.get("newStatus"));
      if (!newStatus) return iotError(400, "InvalidRequestException", `newStatus must be one of ${CERTIFICATE_STATUSES.join(", ")}`);
      if (!iot.updateCertificate(id, newStatus)) return iotError(404, "ResourceNotFoundException", `certificate ${id} does not exist`);
      response.writeHead(200).end();
      return;
    }
    const form = new URLSearchParams(body);
    if (form.get("Action") === "Publish") {
      if (publishFailures > 0) {
        publishFailures -= 1;
        response.writeHead(403, { "content-type": "text/xml" });
        return response.end(`<ErrorResponse><Error><Type>Sender</Type><Code>AuthorizationError</Code><Message>stand-in failure</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`);
      }
      const refusal = snsMessageStructureError(form.get("Message") ?? "", form.get("MessageStructure") ?? undefined);
      if (refusal) {
        response.writeHead(400, { "content-type": "text/xml" });
        return response.end(`<ErrorResponse><Error><Type>Sender</Type><Code>InvalidParameter</Code><Message>${refusal.replace(/^InvalidParameter: /, "")}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`);
      }
      const message = {
        topicArn: form.get("TopicArn") ?? "",
        subject: form.get("Subject") ?? undefined,
        message: form.get("Message") ?? "",
        messageStructure: form.get("MessageStructure") ?? undefined,
      };
      published.push(message);
      options.onPublish?.(message);
      response.writeHead(200, { "content-type": "text/xml" });
      return response.end(
        `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>${randomUUID()}</MessageId></PublishResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></PublishResponse>`,
      );
    }
    response.writeHead(400, { "content-type": "text/plain" }).end(`stand-in does not implement ${target || form.get("Action")}`);
  });
  await listen(services);

  const address = (server: Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const credentials = { accessKeyId: "AKIDLOCALSTANDIN", secretAccessKey: "local-stand-in" };
  return {
    clientConfig: (service) => ({ endpoint: address(service === "dynamodb" ? dynamo : services), region: account.region, credentials }),
    env: {
      AWS_REGION: account.region,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: address(dynamo),
      AWS_ENDPOINT_URL_SNS: address(services),
      AWS_ENDPOINT_URL_SQS: address(services),
      AWS_ENDPOINT_URL_SECRETS_MANAGER: address(services),
      AWS_ENDPOINT_URL_IOT: address(services),
    },
    published,
    sentMessages,
    secrets,
    iot,
    failNextPublishes: (count) => {
      publishFailures = count;
    },
    close: async () => {
      await Promise.all([new Promise((done) => dynamo.close(done)), new Promise((done) => services.close(done))]);
    },
  };
}

function listen(server: Server): Promise<void> {
  return new Promise((done) => server.listen(0, "127.0.0.1", () => done()));
}
