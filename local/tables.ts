import { CreateTableCommand, DynamoDBClient, type AttributeDefinition, type KeySchemaElement } from "@aws-sdk/client-dynamodb";
import { environments } from "../config";
import type { StackJson } from "./synthesized";

/** Creates, in a local DynamoDB, every table a synthesized stack defines, with its key schema. */
export async function createTablesFromStack(stack: StackJson, endpoint: string, region = environments.dev!.region): Promise<string[]> {
  const client = new DynamoDBClient({ endpoint, region, credentials: { accessKeyId: "local", secretAccessKey: "local" } });
  const names: string[] = [];
  for (const table of Object.values(stack.resource?.aws_dynamodb_table ?? {})) {
    const keySchema: KeySchemaElement[] = [{ AttributeName: table.hash_key, KeyType: "HASH" }];
    if (table.range_key) keySchema.push({ AttributeName: table.range_key, KeyType: "RANGE" });
    const attributes: AttributeDefinition[] = (table.attribute as { name: string; type: "S" | "N" | "B" }[]).map((attribute) => ({
      AttributeName: attribute.name,
      AttributeType: attribute.type,
    }));
    await client.send(new CreateTableCommand({ TableName: table.name, KeySchema: keySchema, AttributeDefinitions: attributes, BillingMode: "PAY_PER_REQUEST" }));
    names.push(table.name);
  }
  client.destroy();
  return names;
}
