import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { SNSEvent } from "aws-lambda";
import { startAwsStandIn, type AwsStandIn } from "../../local/aws-services";
import { POWERTOOLS_TEST_ENV, captureFunctionLogs } from "../helpers/logs";

/**
 * The Slack alert formatter through its real entry point: the webhook URL from the Secrets Manager
 * stand-in, posts to a local webhook server.
 */
const SECRET = "smarthome-dev/alerts/slack-webhook";

let aws: AwsStandIn;
let webhook: Server;
let posts: { text: string }[] = [];
let webhookStatus = 200;
let formatter: typeof import("../../functions/alert-formatter");
captureFunctionLogs();

function snsEvent(...messages: string[]): SNSEvent {
  return {
    Records: messages.map((message, index) => ({
      EventSource: "aws:sns",
      EventVersion: "1.0",
      EventSubscriptionArn: "arn:aws:sns:eu-west-1:123456789012:smarthome-dev-alerts:sub",
      Sns: {
        Type: "Notification",
        MessageId: `message-${index}`,
        TopicArn: "arn:aws:sns:eu-west-1:123456789012:smarthome-dev-alerts",
        Subject: "subject",
        Message: message,
        Timestamp: new Date().toISOString(),
        SignatureVersion: "1",
        Signature: "",
        SigningCertUrl: "",
        UnsubscribeUrl: "",
        MessageAttributes: {},
      },
    })),
  };
}

beforeAll(async () => {
  aws = await startAwsStandIn();
  webhook = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      posts.push(JSON.parse(body));
      response.writeHead(webhookStatus).end(webhookStatus === 200 ? "ok" : "no");
    });
  });
  await new Promise<void>((done) => webhook.listen(0, "127.0.0.1", () => done()));
  aws.secrets.set(SECRET, `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/services/T000/B000/XXXX`);
  Object.assign(process.env, aws.env, POWERTOOLS_TEST_ENV, { SLACK_WEBHOOK_SECRET_ID: SECRET });
  formatter = await import("../../functions/alert-formatter");
});

afterAll(async () => {
  await aws.close();
  await new Promise((done) => webhook.close(done));
});

beforeEach(() => {
  posts = [];
  webhookStatus = 200;
});

describe("alert-formatter function", () => {
  it("posts a device error (as the errors rule forwards it) as readable text", async () => {
    const error = { commandId: "c-1", code: "RELAY_STUCK", message: "relay 2 did not switch", at: "2026-11-27T10:00:00Z", thingName: "smarthome-dev-SN1" };
    await formatter.handler(snsEvent(JSON.stringify(error)));
    expect(posts).toEqual([{ text: "Device error on smarthome-dev-SN1: RELAY_STUCK\nrelay 2 did not switch\nat 2026-11-27T10:00:00Z, command c-1" }]);
  });

  it("posts an offline alert the presence function published", async () => {
    const alert = { kind: "device-offline", thingName: "smarthome-dev-SN2", disconnectedAt: "2026-11-27T10:00:00.000Z", disconnectReason: "CONNECTION_LOST", graceSeconds: 300 };
    await formatter.handler(snsEvent(JSON.stringify(alert)));
    expect(posts[0]?.text).toMatch(/^Device offline: smarthome-dev-SN2\nDisconnected at 2026-11-27T10:00:00.000Z \(CONNECTION_LOST\)/);
  });

  it("posts anything else as it is", async () => {
    await formatter.handler(snsEvent("plain words", JSON.stringify({ unexpected: true })));
    expect(posts.map((post) => post.text)).toEqual(["Alert:\nplain words", 'Alert:\n{"unexpected":true}']);
  });

  it("fails when Slack refuses, so SNS retries the delivery", async () => {
    webhookStatus = 500;
    await expect(formatter.handler(snsEvent("x"))).rejects.toThrow("Slack answered 500 for message message-0");
  });
});
