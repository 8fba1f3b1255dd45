import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SNSClient } from "@aws-sdk/client-sns";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { dailyCheckEnvironment, dailyCheckSettings } from "../../contracts/function-environments";
import { readEnvironment } from "../shared/runtime";
import { createDailyCheckHandler } from "./handler";

/** Lambda entry: the environment parsed at cold start, clients from the execution role. */
export const handler = createDailyCheckHandler(dailyCheckSettings(readEnvironment(dailyCheckEnvironment)), {
  documents: DynamoDBDocumentClient.from(new DynamoDBClient({})),
  sns: new SNSClient({}),
});
