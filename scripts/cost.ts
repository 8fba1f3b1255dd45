/**
 * npm run cost -- --devices N [--messages-per-device-per-day M] [--commands-per-day C] [--releases-per-month R] [--json]
 *
 * Monthly cost of one environment (SMART_HOME_ENV, default dev) per service: the billable resources
 * come from the synthesized stacks, the prices from the versioned table in scripts/cost/prices.ts.
 */
import { parseArgs } from "node:util";
import { loadEnvironment } from "../config";
import { projectNames } from "../contracts/names";
import { synthesizeStacks } from "../local/synthesized";
import { billableInventory } from "./cost/inventory";
import { estimateCost, type CostLine, type CostReport, type Workload } from "./cost/model";
import { priceTable } from "./cost/prices";

const USAGE = "usage: npm run cost -- --devices N [--messages-per-device-per-day M] [--commands-per-day C] [--releases-per-month R] [--json]";
const DEFAULT_MESSAGES_PER_DEVICE_PER_DAY = 4;
const DEFAULT_COMMANDS_PER_DEVICE_PER_DAY = 4;
const DEFAULT_AGENT_RELEASES_PER_MONTH = 1;

/** Parses the command line; throws a message that names the bad flag. */
export function parseCostArguments(argv: string[]): { workload: Workload; json: boolean } {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      devices: { type: "string" },
      "messages-per-device-per-day": { type: "string" },
      "commands-per-day": { type: "string" },
      "releases-per-month": { type: "string" },
      json: { type: "boolean", default: false },
    },
  });
  const number = (flag: string, text: string | undefined): number | undefined => {
    if (text === undefined) return undefined;
    const value = Number(text);
    if (text.trim() === "" || !Number.isFinite(value) || value < 0) throw new Error(`--${flag} must be a number >= 0, got "${text}"`);
    return value;
  };
  const devices = number("devices", values.devices);
  if (devices === undefined) throw new Error(`--devices is required\n${USAGE}`);
  if (!Number.isInteger(devices) || devices < 1) throw new Error(`--devices must be a whole number >= 1, got "${values.devices}"`);
  return {
    json: values.json === true,
    workload: {
      devices,
      messagesPerDevicePerDay: number("messages-per-device-per-day", values["messages-per-device-per-day"]) ?? DEFAULT_MESSAGES_PER_DEVICE_PER_DAY,
      commandsPerDay: number("commands-per-day", values["commands-per-day"]) ?? DEFAULT_COMMANDS_PER_DEVICE_PER_DAY * devices,
      agentReleasesPerMonth: number("releases-per-month", values["releases-per-month"]) ?? DEFAULT_AGENT_RELEASES_PER_MONTH,
    },
  };
}

const usd = (value: number) => `$${value.toFixed(value >= 1 ? 2 : value >= 0.01 ? 4 : 6)}`;

function table(lines: readonly CostLine[]): string[] {
  return lines.map((line) => `  ${line.service.padEnd(19)} ${line.item.padEnd(70)} ${formatQuantity(line.quantity).padStart(16)} ${usd(line.usd).padStart(11)}`);
}

function formatQuantity(quantity: number): string {
  return quantity >= 100 ? Math.round(quantity).toLocaleString("en-US") : String(Number(quantity.toFixed(4)));
}

/** The report as a terminal table. */
export function formatReport(report: CostReport): string {
  const byService = new Map<string, number>();
  for (const line of report.monthly) byService.set(line.service, (byService.get(line.service) ?? 0) + line.usd);
  const { workload } = report;
  return [
    `Monthly cost for ${workload.devices.toLocaleString("en-US")} devices, ${workload.messagesPerDevicePerDay} messages per device a day, ${workload.commandsPerDay.toLocaleString("en-US")} commands a day, ${workload.agentReleasesPerMonth} agent release(s) a month`,
    `Prices: table ${report.priceTableVersion} (${report.priceRegion}, list prices, no free tier); stacks deploy to ${report.stackRegion}${report.priceRegion === report.stackRegion ? "" : " (prices there may differ by a few percent)"}`,
    "",
    ...table(report.monthly),
    "",
    "Per service:",
    ...[...byService].map(([service, total]) => `  ${service.padEnd(19)} ${usd(total).padStart(11)}`),
    `  ${"Total per month".padEnd(19)} ${usd(report.monthlyTotal).padStart(11)}`,
    `  ${"Per device".padEnd(19)} ${usd(report.perDevicePerMonth).padStart(11)} a month`,
    "",
    `One time, onboarding ${workload.devices.toLocaleString("en-US")} devices (serial registration and fleet provisioning):`,
    ...table(report.onboarding),
    `  ${"Total one time".padEnd(19)} ${usd(report.onboardingTotal).padStart(11)}`,
  ].join("\n");
}

/** The cost report of the environment SMART_HOME_ENV names. */
export function costReport(workload: Workload): CostReport {
  const config = loadEnvironment();
  const stacks = synthesizeStacks(config);
  return estimateCost(billableInventory(stacks, projectNames(config.project, config.name).topicRoot), workload);
}

function main(): void {
  let parsed: ReturnType<typeof parseCostArguments>;
  try {
    parsed = parseCostArguments(process.argv.slice(2));
  } catch (error) {
    console.error((error as Error).message);
    process.exitCode = 2;
    return;
  }
  const report = costReport(parsed.workload);
  console.log(parsed.json ? JSON.stringify({ ...report, prices: priceTable }, null, 2) : formatReport(report));
}

if (require.main === module) main();
