import { loadEnvironment } from "../../config";
import { runSim } from "./run";

/** `npm run sim -- --devices N [--json]`: see run.ts. */
function parseArguments(argv: string[]): { devices: number; json: boolean } {
  const devicesFlag = argv.indexOf("--devices");
  const devices = devicesFlag >= 0 ? Number(argv[devicesFlag + 1]) : 10;
  if (!Number.isInteger(devices) || devices < 1 || devices > 1000) {
    console.error("usage: npm run sim -- --devices <1-1000> [--json]");
    process.exit(2);
  }
  const unknown = argv.filter((arg, index) => arg.startsWith("--") && !["--devices", "--json"].includes(arg) && argv[index - 1] !== "--devices");
  if (unknown.length > 0) {
    console.error(`unknown option ${unknown[0]}; usage: npm run sim -- --devices <N> [--json]`);
    process.exit(2);
  }
  return { devices, json: argv.includes("--json") };
}

async function main(): Promise<void> {
  const { devices, json } = parseArguments(process.argv.slice(2));
  // --json: stdout carries the summary line only; the platform's own logs go to stderr.
  const writeSummary = process.stdout.write.bind(process.stdout);
  if (json) process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
  const summary = await runSim({ devices, environment: loadEnvironment() });
  if (json) {
    writeSummary(`${JSON.stringify(summary)}\n`);
  } else {
    console.log(`devices               ${summary.devices}`);
    console.log(`provisioned           ${summary.provisioned} (failures ${summary.failures})`);
    console.log(`provisioning time     ${summary.provisioningMs} ms (all agents, started together)`);
    console.log(`commands / responses  ${summary.commands} / ${summary.responses}`);
    console.log(`round trip            p50 ${summary.roundTripMs.p50} ms, p99 ${summary.roundTripMs.p99} ms, max ${summary.roundTripMs.max} ms`);
    console.log(`peak memory           ${summary.peakAgentRssMb} MB per agent (max), ${summary.peakFleetRssMb} MB all agents, ${summary.peakPlatformRssMb} MB platform + controller`);
  }
  process.exit(summary.failures === 0 && summary.responses === summary.commands ? 0 : 1);
}

void main().catch((error) => {
  console.error(`sim failed: ${(error as Error).message}`);
  process.exit(1);
});
