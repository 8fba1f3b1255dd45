import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { environments } from "../config";
import type { TableKeySchema } from "../modules/project-table";

/** Creates tables in a local DynamoDB from their key schemas (the stacks' `tables` fields). */
export async function createTables(tables: readonly TableKeySchema[], endpoint: string, region = environments.dev!.region): Promise<string[]> {
  const client = new DynamoDBClient({ endpoint, region, credentials: { accessKeyId: "local", secretAccessKey: "local" } });
  try {
    for (const table of tables) {
      await client.send(
        new CreateTableCommand({
          TableName: table.tableName,
          KeySchema: [{ AttributeName: table.partitionKey, KeyType: "HASH" }],
          AttributeDefinitions: [{ AttributeName: table.partitionKey, AttributeType: "S" }],
          BillingMode: "PAY_PER_REQUEST",
        }),
      );
    }
    return tables.map((table) => table.tableName);
  } finally {
    client.destroy();
  }
}
