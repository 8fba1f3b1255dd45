import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { IoTClient } from "@aws-sdk/client-iot";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { serialApiEnvironment, serialApiSettings } from "../../contracts/function-environments";
import { readEnvironment } from "../shared/runtime";
import { createSerialApiHandler } from "./handler";

/** Lambda entry: the environment parsed at cold start, clients from the execution role. */
export const handler = createSerialApiHandler(serialApiSettings(readEnvironment(serialApiEnvironment)), {
  documents: DynamoDBDocumentClient.from(new DynamoDBClient({})),
  iot: new IoTClient({}),
});
