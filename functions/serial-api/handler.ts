import type { IoTClient } from "@aws-sdk/client-iot";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { SerialApiSettings } from "../../contracts/function-environments";
import { createLogger } from "../shared/runtime";
import { SerialTable } from "../shared/serial-table";
import { serialApi } from "./router";

export interface SerialApiClients {
  readonly documents: DynamoDBDocumentClient;
  readonly iot: IoTClient;
}

/** The serial API behind API Gateway (Lambda proxy integration): routes in contracts/serial-api.ts. */
export function createSerialApiHandler(settings: SerialApiSettings, clients: SerialApiClients) {
  return serialApi({ table: new SerialTable(clients.documents, settings.serialTable), iot: clients.iot, now: () => new Date() }, createLogger("serial-api"));
}
