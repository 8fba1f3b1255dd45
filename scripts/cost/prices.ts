/**
 * The versioned price table `npm run cost` multiplies with. One entry per billed dimension, each with
 * where the number was read and when. Prices are list prices in USD without free tiers (a new
 * account's 12-month free tier and the always-free allowances only lower the bill).
 *
 * Region: us-east-1 (US East, N. Virginia). AWS's pricing pages render their regional tables with
 * JavaScript, so the numbers here were read from AWS's own worked examples and whitepapers where
 * possible and from third-party transcriptions of the AWS pages otherwise (the `source` says which).
 * AWS's IoT Core example is priced in Europe (Ireland) and gives the same connectivity and messaging
 * rates; for EC2, EBS, DynamoDB and CloudWatch Logs eu-west-1 is typically a few percent dearer.
 * To update: change the numbers, their `source` and `checked`, bump `version`, and run
 * `npx jest test/cost` (the hand-computed cases will tell you which lines moved).
 */
export interface Price {
  /** USD per `per` units of `unit`. */
  readonly usd: number;
  readonly per: number;
  readonly unit: string;
  /** Where the number was read (AWS page, or a page quoting it). */
  readonly source: string;
  /** The date the number was checked against `source` (YYYY-MM-DD). */
  readonly checked: string;
  readonly note?: string;
}

const checked = "2026-11-28";

export const priceTable = {
  version: "2026-11-28.2",
  region: "us-east-1",
  currency: "USD",
  prices: {
    iotConnectivityMinutes: {
      usd: 0.08, per: 1_000_000, unit: "connection minutes", checked,
      source: "https://aws.amazon.com/iot-core/pricing/ (AWS's worked example, Europe (Ireland): \"$0.08/1,000,000 minutes of connection\")",
    },
    iotMessages: {
      usd: 1.0, per: 1_000_000, unit: "messages (5 KB each)", checked,
      source: "https://aws.amazon.com/iot-core/pricing/ (worked example: \"$1.00/1,000,000 messages\", first billion messages a month)",
    },
    iotRegistryOperations: {
      usd: 1.25, per: 1_000_000, unit: "registry or Device Shadow operations", checked,
      source: "https://aws.amazon.com/iot-core/pricing/ (transcribed by api-evangelist/amazon-iot-core plans, read 2026-09-20: \"$1.25/1,000,000 operations\")",
    },
    iotRulesTriggered: {
      usd: 0.15, per: 1_000_000, unit: "rules triggered", checked,
      source: "https://aws.amazon.com/iot-core/pricing/ (the rules table did not render in the stored copies; $0.15 per million rules triggered as quoted by several public cost write-ups, e.g. US East and us-west-2 2026 estimates)",
    },
    iotRuleActions: {
      usd: 0.15, per: 1_000_000, unit: "actions executed", checked,
      source: "https://aws.amazon.com/iot-core/pricing/ (the rules table did not render in the stored copies; $0.15 per million actions executed as quoted by public cost write-ups)",
    },
    dynamodbWriteRequestUnits: {
      usd: 0.625, per: 1_000_000, unit: "write request units (on-demand)", checked,
      source: "https://aws.amazon.com/dynamodb/pricing/on-demand/ (after the November 2024 cut; quoted by airbyte.com/data-engineering-resources/dynamodb-pricing)",
    },
    dynamodbReadRequestUnits: {
      usd: 0.125, per: 1_000_000, unit: "read request units (on-demand)", checked,
      source: "https://aws.amazon.com/dynamodb/pricing/on-demand/ (quoted by airbyte.com/data-engineering-resources/dynamodb-pricing)",
    },
    dynamodbStorageGbMonth: {
      usd: 0.25, per: 1, unit: "GB-month (Standard table class)", checked,
      source: "https://aws.amazon.com/dynamodb/pricing/on-demand/ (first 25 GB a month are free; not deducted here)",
    },
    snsPublishes: {
      usd: 0.5, per: 1_000_000, unit: "publishes (standard topic)", checked,
      source: "https://aws.amazon.com/sns/pricing/ (quoted by factualminds.com/blog/amazon-sns-pricing-publishes-fanout-protocols, 2026-06-13)",
    },
    snsEmailDeliveries: {
      usd: 2.0, per: 100_000, unit: "e-mail notifications", checked,
      source: "https://aws.amazon.com/sns/pricing/ (\"email is $2/100K\"; the first 1,000 a month are free)",
    },
    sqsRequests: {
      usd: 0.4, per: 1_000_000, unit: "requests (standard queue, 64 KB chunks)", checked,
      source: "https://aws.amazon.com/sqs/pricing/ (quoted by cloudburn.io/blog/amazon-sqs-pricing, March 2026; first 1M a month free)",
    },
    lambdaRequests: {
      usd: 0.2, per: 1_000_000, unit: "requests", checked,
      source: "https://aws.amazon.com/lambda/pricing/ (quoted by cloudchipr.com/blog/aws-lambda-pricing, US East)",
    },
    lambdaArmGbSeconds: {
      usd: 0.0000133334, per: 1, unit: "GB-seconds (arm64, first 7.5 billion a month)", checked,
      source: "https://aws.amazon.com/lambda/pricing/ (quoted by cloudchipr.com/blog/aws-lambda-pricing, US East)",
    },
    ec2T4gNanoHours: {
      usd: 0.0042, per: 1, unit: "instance hours (t4g.nano, Linux, on demand)", checked,
      source: "https://aws.amazon.com/ec2/pricing/on-demand/ (several third-party cost tables agree; /work/shared/reference/delivery-ec2-cd-pi.md)",
      note: "standard credits (the stack's credit_specification) cannot be billed for surplus credits",
    },
    publicIpv4Hours: {
      usd: 0.005, per: 1, unit: "public IPv4 address hours", checked,
      source: "https://aws.amazon.com/vpc/pricing/ (since 2024-02-01; repost.aws/articles/ARapCqBMkaTfCidGWemmSjAA, doit.com guide)",
    },
    ebsGp3GbMonth: {
      usd: 0.08, per: 1, unit: "GB-month (gp3, baseline 3,000 IOPS / 125 MiB/s included)", checked,
      source: "https://aws.amazon.com/ebs/pricing/ (AWS Storage Blog, gp2 to gp3 migration; /work/shared/reference/delivery-ec2-cd-pi.md)",
    },
    secretsManagerSecretMonths: {
      usd: 0.4, per: 1, unit: "secret-months", checked,
      source: "https://aws.amazon.com/secrets-manager/pricing/ (\"$0.40 per secret per month + $0.05 per 10k API calls\", hivebook.wiki)",
    },
    secretsManagerApiCalls: {
      usd: 0.05, per: 10_000, unit: "API calls", checked,
      source: "https://aws.amazon.com/secrets-manager/pricing/",
    },
    ecrStorageGbMonth: {
      usd: 0.1, per: 1, unit: "GB-month (private repository)", checked,
      source: "https://aws.amazon.com/ecr/pricing/ (quoted by cloudburn.io/blog/amazon-ecr-pricing, March 2026)",
    },
    apiGatewayRestRequests: {
      usd: 3.5, per: 1_000_000, unit: "REST API calls (first 333 million a month)", checked,
      source: "https://docs.aws.amazon.com/whitepapers/latest/best-practices-api-gateway-private-apis-integration/cost-optimization.html (Table 4)",
    },
    cloudwatchLogsIngestionGb: {
      usd: 0.5, per: 1, unit: "GB ingested (Standard log class)", checked,
      source: "https://aws.amazon.com/cloudwatch/pricing/ (quoted by c3x.dev/blog/cloudwatch-logs-cost-optimization, us-east-1, June 2026)",
    },
    cloudwatchLogsStorageGbMonth: {
      usd: 0.03, per: 1, unit: "GB-month archived", checked,
      source: "https://aws.amazon.com/cloudwatch/pricing/ (quoted by c3x.dev/blog/cloudwatch-logs-cost-optimization)",
    },
    s3StandardGbMonth: {
      usd: 0.023, per: 1, unit: "GB-month (S3 Standard, first 50 TB)", checked,
      source: "https://aws.amazon.com/s3/pricing/ (quoted by devnotes.tech S3 pricing breakdown, US East)",
    },
    s3PutRequests: {
      usd: 0.005, per: 1_000, unit: "PUT, COPY, POST, LIST requests", checked,
      source: "https://aws.amazon.com/s3/pricing/ (quoted by devnotes.tech S3 pricing breakdown)",
    },
    s3GetRequests: {
      usd: 0.0004, per: 1_000, unit: "GET requests", checked,
      source: "https://aws.amazon.com/s3/pricing/ (quoted by devnotes.tech S3 pricing breakdown)",
    },
    iotJobsRemoteActions: {
      usd: 0.003, per: 1, unit: "remote actions (job executions, first 250,000 a month)", checked,
      source: "https://aws.amazon.com/iot-device-management/pricing/ (transcribed by api-evangelist/amazon-iot-device-management plans, read 2026-09-20: \"Device Jobs - First 250,000 Remote Actions: $0.003 per remote action\")",
      note: "the rate above 250,000 remote actions a month was not in the transcription; the model keeps $0.003, an upper bound",
    },
    dataTransferOutGb: {
      usd: 0.09, per: 1, unit: "GB out to the internet (first 10 TB a month)", checked,
      source: "https://aws.amazon.com/s3/pricing/ (quoted by usage.ai/blogs/s3-egress-cost, US East, June 2026: \"$0.09/GB for 100 GB to 10 TB/month\"; $0.085 to 50 TB, $0.07 to 150 TB)",
      note: "the first 100 GB a month, across all services of the account, are free; not deducted here",
    },
    kmsKeyMonths: {
      usd: 1.0, per: 1, unit: "customer managed key-months", checked,
      source: "https://aws.amazon.com/kms/pricing/ (\"Each AWS KMS key that you create in KMS costs $1/month\")",
    },
  },
} as const satisfies { version: string; region: string; currency: string; prices: Record<string, Price> };

export type PriceId = keyof typeof priceTable.prices;

/** What `quantity` units of one priced dimension cost. */
export function charge(id: PriceId, quantity: number): number {
  const price: Price = priceTable.prices[id];
  return (quantity / price.per) * price.usd;
}
