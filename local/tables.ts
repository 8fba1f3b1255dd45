import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { environments } from "../config";
import type { TableKeySchema } from "../modules/project-table";
import type { StackJson } from "./synthesized";

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

/**
 * The same, for every table a synthesized stack defines (for tests and benchmarks that hold only
 * the JSON). ProjectTable has a string partition key only; anything else fails here.
 */
export async function createTablesFromStack(stack: StackJson, endpoint: string, region?: string): Promise<string[]> {
  const tables = Object.values(stack.resource?.aws_dynamodb_table ?? {}).map((table): TableKeySchema => {
    if (table.range_key || table.attribute.length !== 1 || table.attribute[0].type !== "S") throw new Error(`table ${table.name}: only a string partition key is supported`);
    return { tableName: table.name, partitionKey: table.hash_key };
  });
  return createTables(tables, endpoint, region);
}
