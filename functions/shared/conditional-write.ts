import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";

/**
 * Runs a conditional DynamoDB write; undefined when its condition does not hold, so callers branch
 * on a value instead of catching. Any other error is thrown. The document client sends through
 * DynamoDBClient, whose deserializer throws the modeled ConditionalCheckFailedException class
 * (DynamoDB API reference, "Errors": ConditionalCheckFailedException, HTTP 400), so the check is by
 * type, not by name.
 */
export async function unlessConditionFails<T>(write: () => Promise<T>): Promise<T | undefined> {
  try {
    return await write();
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return undefined;
    throw error;
  }
}
