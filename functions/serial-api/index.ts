import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { IoTClient } from "@aws-sdk/client-iot";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { serialApiEnvironment } from "../../contracts/function-environments";
import { createLogger, readEnvironment } from "../shared/runtime";
import { SerialTable } from "../shared/serial-table";
import { serialApi } from "./router";

/** The serial API behind API Gateway (Lambda proxy integration): routes in contracts/serial-api.ts. */
const environment = readEnvironment(serialApiEnvironment);

export const handler = serialApi(
  {
    table: new SerialTable(DynamoDBDocumentClient.from(new DynamoDBClient({})), environment.SERIAL_TABLE),
    iot: new IoTClient({}),
    now: () => new Date(),
  },
  createLogger("serial-api"),
);
