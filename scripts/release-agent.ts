/**
 * npm run release:agent -- --version <v> --target <thing-group|thing[,thing…]|all> [--tarball <f>]
 *   [--rollout-per-minute N] [--abort-failed-percent P --abort-min-executed N] [--dry-run]
 *
 * Uploads the Pi agent's release tarball to the agent-release bucket and creates the IoT job that
 * rolls it out (docs/agent-releases.md). The Ed25519 signing key comes from
 * AGENT_RELEASE_SIGNING_KEY or --signing-key-secret; the environment (and its region) from
 * SMART_HOME_ENV; AWS credentials from the usual chain. Exits 0 when the job is created (or the
 * dry run passed); 1 when a check refuses (nothing uploaded or created) or an AWS call fails (a
 * tarball already uploaded stays: running again with the same bytes creates the job); 2 on bad usage.
 */
import { IoTClient } from "@aws-sdk/client-iot";
import { S3Client } from "@aws-sdk/client-s3";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { STSClient } from "@aws-sdk/client-sts";
import { join } from "node:path";
import { loadEnvironment } from "../config";
import { projectNames } from "../contracts/names";
import { parseReleaseOptions, UsageError } from "./release-agent/options";
import { releaseAgent, ReleaseError } from "./release-agent/release";

async function main(argv: readonly string[]): Promise<number> {
  let options;
  try {
    options = parseReleaseOptions(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`release:agent: ${error.message}`);
    return 2;
  }
  const config = loadEnvironment();
  // The stacks deploy the bucket, the role and the things in the environment's region: use it, whatever AWS_REGION says.
  const region = config.region;
  const clients = { s3: new S3Client({ region }), iot: new IoTClient({ region }), sts: new STSClient({ region }), secrets: new SecretsManagerClient({ region }) };
  try {
    await releaseAgent(options, { names: projectNames(config.project, config.name), region, distDirectory: join(__dirname, "..", "dist"), variables: process.env, fleetReleasePublicKey: config.fleet.releasePublicKey }, clients, (line) => console.log(line));
    return 0;
  } catch (error) {
    if (error instanceof ReleaseError) console.error(`release:agent: ${error.message}; nothing was uploaded or created`);
    else console.error(`release:agent: ${(error as Error).name}: ${(error as Error).message}`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
