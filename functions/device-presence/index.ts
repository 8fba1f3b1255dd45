import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SNSClient } from "@aws-sdk/client-sns";
import { SQSClient } from "@aws-sdk/client-sqs";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { devicePresenceEnvironment, devicePresenceSettings } from "../../contracts/function-environments";
import { readEnvironment } from "../shared/runtime";
import { createDevicePresenceHandler } from "./handler";

/** Lambda entry: the environment parsed at cold start, clients from the execution role. */
export const handler = createDevicePresenceHandler(devicePresenceSettings(readEnvironment(devicePresenceEnvironment)), {
  documents: DynamoDBDocumentClient.from(new DynamoDBClient({})),
  sqs: new SQSClient({}),
  sns: new SNSClient({}),
});
