import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { IoTClient } from "@aws-sdk/client-iot";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { provisioningHookEnvironment, provisioningHookSettings } from "../../contracts/function-environments";
import { readEnvironment } from "../shared/runtime";
import { createProvisioningHookHandler } from "./handler";

/**
 * Lambda entry. AWS IoT waits at most 5 seconds for the hook's answer, so the clients give up early
 * (1 s to connect, 1.5 s per request, 2 attempts): worst case about 3 s, and any failure denies.
 */
const tightBudget = { maxAttempts: 2, requestHandler: { connectionTimeout: 1000, requestTimeout: 1500 } };

export const handler = createProvisioningHookHandler(provisioningHookSettings(readEnvironment(provisioningHookEnvironment)), {
  documents: DynamoDBDocumentClient.from(new DynamoDBClient(tightBudget)),
  // Only asked about a serial that looks stranded; the same tight budget as DynamoDB.
  iot: new IoTClient(tightBudget),
});
