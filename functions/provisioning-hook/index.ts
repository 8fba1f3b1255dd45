import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DescribeThingCommand, IoTClient, ResourceNotFoundException } from "@aws-sdk/client-iot";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { provisioningHookEnvironment } from "../../contracts/function-environments";
import { createLogger, readEnvironment } from "../shared/runtime";
import { SerialTable } from "../shared/serial-table";
import { decide, type HookAnswer, type HookDependencies } from "./decide";

/**
 * Fleet provisioning pre-provisioning hook. AWS IoT waits at most 5 seconds for the answer, so the
 * DynamoDB client gives up early (1 s to connect, 1.5 s per request, 2 attempts): worst case about
 * 3 s, and any failure denies.
 */
const environment = readEnvironment(provisioningHookEnvironment);
const logger = createLogger("provisioning-hook");
const documents = DynamoDBDocumentClient.from(
  new DynamoDBClient({ maxAttempts: 2, requestHandler: { connectionTimeout: 1000, requestTimeout: 1500 } }),
);
// Only asked about a serial that looks stranded; the same tight budget as DynamoDB.
const iot = new IoTClient({ maxAttempts: 2, requestHandler: { connectionTimeout: 1000, requestTimeout: 1500 } });
const deps: HookDependencies = {
  table: new SerialTable(documents, environment.SERIAL_TABLE),
  activeClaimCertificates: environment.ACTIVE_CLAIM_CERTIFICATES,
  thingNamePrefix: environment.THING_NAME_PREFIX,
  logger,
  now: () => new Date(),
  thingExists: async (thingName) => {
    try {
      await iot.send(new DescribeThingCommand({ thingName }));
      return true;
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return false;
      throw error;
    }
  },
  strandedAfterMs: Number(environment.STRANDED_AFTER_SECONDS) * 1000,
};

export async function handler(event: unknown): Promise<HookAnswer> {
  try {
    return await decide(event, deps);
  } catch (error) {
    logger.error("denied: the hook failed", { error: error as Error });
    return { allowProvisioning: false, parameterOverrides: {} };
  }
}
