import { createHash, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import dynalite from "dynalite";

/**
 * Local counterparts of the AWS services the functions call, on loopback:
 * - DynamoDB: dynalite (a real implementation, in memory);
 * - SNS Publish (query protocol), SQS SendMessage (JSON 1.0) and Secrets Manager GetSecretValue
 *   (JSON 1.1): a small recorder speaking each wire protocol, because no free local implementation
 *   of them runs here. It stores what was sent and can be told to fail.
 *
 * The real SDK clients talk to it through the standard AWS_ENDPOINT_URL_<SERVICE> variables.
 */
export interface AwsStandIn {
  readonly env: Record<string, string>;
  readonly published: { topicArn: string; subject?: string; message: string; messageStructure?: string }[];
  readonly sentMessages: { queueUrl: string; body: string; delaySeconds?: number }[];
  readonly secrets: Map<string, string>;
  /** Fail the next N publishes with an error the SDK does not retry (403 AuthorizationError). */
  failNextPublishes(count: number): void;
  close(): Promise<void>;
}

export async function startAwsStandIn(): Promise<AwsStandIn> {
  const dynamo = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await listen(dynamo);
  const published: AwsStandIn["published"] = [];
  const sentMessages: AwsStandIn["sentMessages"] = [];
  const secrets = new Map<string, string>();
  let publishFailures = 0;

  const services = createServer(async (request, response) => {
    const body = await readBody(request);
    const target = String(request.headers["x-amz-target"] ?? "");
    const json = (status: number, payload: unknown, type = "application/x-amz-json-1.0") => {
      response.writeHead(status, { "content-type": type, "x-amzn-requestid": randomUUID() }).end(JSON.stringify(payload));
    };
    if (target === "AmazonSQS.SendMessage") {
      const input = JSON.parse(body) as { QueueUrl: string; MessageBody: string; DelaySeconds?: number };
      sentMessages.push({ queueUrl: input.QueueUrl, body: input.MessageBody, delaySeconds: input.DelaySeconds });
      return json(200, { MessageId: randomUUID(), MD5OfMessageBody: createHash("md5").update(input.MessageBody).digest("hex") });
    }
    if (target === "secretsmanager.GetSecretValue") {
      const { SecretId } = JSON.parse(body) as { SecretId: string };
      const value = secrets.get(SecretId);
      if (value === undefined) {
        return json(400, { __type: "ResourceNotFoundException", Message: "Secrets Manager can't find the specified secret." }, "application/x-amz-json-1.1");
      }
      return json(200, { ARN: `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${SecretId}-AbCdEf`, Name: SecretId, SecretString: value, VersionId: randomUUID() }, "application/x-amz-json-1.1");
    }
    const form = new URLSearchParams(body);
    if (form.get("Action") === "Publish") {
      if (publishFailures > 0) {
        publishFailures -= 1;
        response.writeHead(403, { "content-type": "text/xml" });
        return response.end(`<ErrorResponse><Error><Type>Sender</Type><Code>AuthorizationError</Code><Message>stand-in failure</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`);
      }
      published.push({
        topicArn: form.get("TopicArn") ?? "",
        subject: form.get("Subject") ?? undefined,
        message: form.get("Message") ?? "",
        messageStructure: form.get("MessageStructure") ?? undefined,
      });
      response.writeHead(200, { "content-type": "text/xml" });
      return response.end(
        `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>${randomUUID()}</MessageId></PublishResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></PublishResponse>`,
      );
    }
    response.writeHead(400, { "content-type": "text/plain" }).end(`stand-in does not implement ${target || form.get("Action")}`);
  });
  await listen(services);

  const url = (server: Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    env: {
      AWS_REGION: "eu-west-1",
      AWS_ACCESS_KEY_ID: "AKIDLOCALSTANDIN",
      AWS_SECRET_ACCESS_KEY: "local-stand-in",
      AWS_ENDPOINT_URL_DYNAMODB: url(dynamo),
      AWS_ENDPOINT_URL_SNS: url(services),
      AWS_ENDPOINT_URL_SQS: url(services),
      AWS_ENDPOINT_URL_SECRETS_MANAGER: url(services),
    },
    published,
    sentMessages,
    secrets,
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

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((done, fail) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => done(Buffer.concat(chunks).toString("utf8")));
    request.on("error", fail);
  });
}
