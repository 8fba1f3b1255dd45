/**
 * npm run pi:image -- --image <raspios-arm64-lite.img> --batch <id> --out <file.img>
 *                     [--agent-release <tarball>, default: what npm run build:agent wrote] [--claim-from secret|<folder>] [--endpoint <host[:port]>]
 *                     [--wifi-ssid <ssid> (--wifi-passphrase-file <file> | PI_IMAGE_WIFI_PASSPHRASE)]
 *                     [--release-public-key <base64>] (when the environment has no fleet.releasePublicKey, docs/pi.md)
 *
 * A flashable Raspberry Pi OS image for one claim batch of SMART_HOME_ENV (default dev); see
 * docs/field-install.md. Without root and without mounting: the boot partition is written with mtools.
 */
import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { defaultReleaseTarball } from "../../pi-agent/build";
import { loadEnvironment } from "../../config";
import { ClaimError, loadClaimBundle } from "./claim-bundle";
import { ConfigError, parseAgentConfig } from "../../pi-agent/config";
import { agentConfig, buildImage, ImageError } from "./build-image";
import { CloudInitError } from "./cloud-init";
import { PartitionError } from "./partition-table";
import { imageReleaseKey, ReleaseKeyError } from "./release-key";
import { readWifiNetwork, WifiError, WIFI_PASSPHRASE_VARIABLE } from "./wifi";

const USAGE = `usage: npm run pi:image -- --image <raspios-arm64-lite.img> --batch <id> --out <file.img>
         [--agent-release <tarball>] (default: dist/, written by npm run build:agent)
         [--claim-from secret|<local platform folder>] [--endpoint <host[:port]> (with a folder)]
         [--wifi-ssid <ssid> with --wifi-passphrase-file <file> or ${WIFI_PASSPHRASE_VARIABLE}]
         [--release-public-key <base64>] (default: the environment's fleet.releasePublicKey; with neither the Pis reject every update)`;

class UsageError extends Error {}

export async function main(args: readonly string[], environment: NodeJS.ProcessEnv): Promise<string> {
  if (args.some((arg) => arg === "--wifi-passphrase" || arg.startsWith("--wifi-passphrase="))) {
    throw new UsageError(`the Wi-Fi passphrase is never taken from the command line (shell history, ps): use --wifi-passphrase-file <file> or ${WIFI_PASSPHRASE_VARIABLE}`);
  }
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      strict: true,
      options: {
        image: { type: "string" },
        batch: { type: "string" },
        "agent-release": { type: "string" },
        out: { type: "string" },
        "claim-from": { type: "string", default: "secret" },
        endpoint: { type: "string" },
        "wifi-ssid": { type: "string" },
        "wifi-passphrase-file": { type: "string" },
        "release-public-key": { type: "string" },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const missing = (["image", "batch", "out"] as const).filter((name) => !values[name]);
  if (missing.length > 0) throw new UsageError(`missing ${missing.map((name) => `--${name}`).join(", ")}`);

  const agentRelease = values["agent-release"] ?? defaultReleaseTarball();
  if (!values["agent-release"] && !existsSync(agentRelease)) {
    throw new UsageError(`no agent release at ${agentRelease}: run npm run build:agent first, or pass --agent-release <tarball>`);
  }
  const wifi = readWifiNetwork({ ssid: values["wifi-ssid"], passphraseFile: values["wifi-passphrase-file"], environment });
  const config = loadEnvironment(environment.SMART_HOME_ENV || undefined);
  const releaseKey = imageReleaseKey(values["release-public-key"], config.fleet.releasePublicKey, config.name);
  const releasePublicKey = releaseKey.publicKey;
  const claim = await loadClaimBundle({ from: values["claim-from"]!, batch: values.batch!, config, endpoint: values.endpoint });
  // The agent's own schema checks what the image will carry, so a bad key stops here, not on the Pi.
  try {
    parseAgentConfig(agentConfig({ claim, project: config.project, environment: config.name, releasePublicKey }), "the agent config");
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(error.message);
    throw error;
  }
  const result = buildImage({
    image: values.image!,
    out: values.out!,
    agentRelease,
    claim,
    project: config.project,
    environment: config.name,
    wifi,
    releasePublicKey,
  });
  const partition = result.bootPartition;
  return [
    `wrote ${result.out}: batch ${claim.batch}, endpoint ${claim.endpoint}:${claim.port}${wifi ? `, Wi-Fi ${wifi.ssid}` : ""}`,
    releasePublicKey
      ? `over-the-air updates: signed with release key ${releasePublicKey} (from ${releaseKey.source === "config" ? `environment ${config.name}'s fleet.releasePublicKey` : "--release-public-key"})`
      : `over-the-air updates: off (environment ${config.name} has no fleet.releasePublicKey and no --release-public-key was passed: the agents reject every update job)`,
    `boot partition ${partition.number} (${partition.scheme.toUpperCase()}, offset ${partition.offsetBytes} bytes): ${result.written.join(", ")}`,
  ].join("\n");
}

if (require.main === module) {
  main(process.argv.slice(2), process.env).then(
    (summary) => console.log(summary),
    (error: Error) => {
      const known = error instanceof UsageError || error instanceof ClaimError || error instanceof ImageError || error instanceof PartitionError || error instanceof CloudInitError || error instanceof WifiError || error instanceof ReleaseKeyError;
      console.error(`pi:image: ${error.message}${error instanceof UsageError ? `\n${USAGE}` : ""}`);
      if (!known && error.stack) console.error(error.stack);
      process.exitCode = error instanceof UsageError ? 2 : 1;
    },
  );
}
