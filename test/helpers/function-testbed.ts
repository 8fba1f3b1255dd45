import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { startAwsStandIn, type AwsStandIn } from "../../local/aws-services";
import { POWERTOOLS_TEST_ENV } from "./logs";
import { tablesOf } from "./synth";
import { createTables } from "../../local/tables";

export interface FunctionTestbed {
  aws: AwsStandIn;
  /** A client on the local DynamoDB, for the test's own reads and writes. */
  documents: DynamoDBDocumentClient;
  close(): Promise<void>;
}

/**
 * What a function test needs before it imports the handler: the local AWS stand-in, the tables a
 * synthesized stack defines, and the process environment the function reads (set here because
 * handlers read it when their module loads).
 */
export async function startFunctionTestbed(tablesIn: "iot" | "iot-fleet", environment: (aws: AwsStandIn) => Record<string, string>): Promise<FunctionTestbed> {
  const aws = await startAwsStandIn();
  Object.assign(process.env, aws.env, POWERTOOLS_TEST_ENV, environment(aws));
  await createTables(tablesOf(tablesIn), aws.env.AWS_ENDPOINT_URL_DYNAMODB!);
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient(aws.clientConfig("dynamodb")));
  return {
    aws,
    documents,
    close: async () => {
      documents.destroy();
      await aws.close();
    },
  };
}
