import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { DescribeThingCommand, ResourceNotFoundException, type IoTClient } from "@aws-sdk/client-iot";
import type { ProvisioningHookSettings } from "../../contracts/function-environments";
import { STRANDED_PROVISIONING_SECONDS } from "../../contracts/serial-registry";
import { createLogger } from "../shared/runtime";
import { SerialTable } from "../shared/serial-table";
import { decide, type HookAnswer, type HookDependencies } from "./decide";

export interface ProvisioningHookClients {
  readonly documents: DynamoDBDocumentClient;
  readonly iot: IoTClient;
}

/** Fleet provisioning pre-provisioning hook: any failure denies. */
export function createProvisioningHookHandler(settings: ProvisioningHookSettings, clients: ProvisioningHookClients) {
  const logger = createLogger("provisioning-hook");
  const deps: HookDependencies = {
    table: new SerialTable(clients.documents, settings.serialTable),
    activeClaimCertificates: settings.activeClaimCertificates,
    thingNamePrefix: settings.thingNamePrefix,
    logger,
    now: () => new Date(),
    thingExists: async (thingName) => {
      try {
        await clients.iot.send(new DescribeThingCommand({ thingName }));
        return true;
      } catch (error) {
        if (error instanceof ResourceNotFoundException) return false;
        throw error;
      }
    },
    strandedAfterMs: (settings.strandedAfterSeconds ?? STRANDED_PROVISIONING_SECONDS) * 1000,
  };
  return async function handler(event: unknown): Promise<HookAnswer> {
    try {
      return await decide(event, deps);
    } catch (error) {
      logger.error("denied: the hook failed", { error: error as Error });
      return { allowProvisioning: false, parameterOverrides: {} };
    }
  };
}
