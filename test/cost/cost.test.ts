import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { projectNames } from "../../contracts/names";
import { billableInventory } from "../../scripts/cost/inventory";
import { estimateCost, type CostReport } from "../../scripts/cost/model";
import { priceTable } from "../../scripts/cost/prices";
import { formatReport, parseCostArguments } from "../../scripts/cost";
import { defaultConfig, synthAll } from "../helpers/synth";

const inventory = () => billableInventory(synthAll(defaultConfig), projectNames(defaultConfig.project, defaultConfig.name).topicRoot);
const line = (report: CostReport, service: string, item: string) => {
  const found = report.monthly.filter((l) => l.service === service && l.item.startsWith(item));
  expect(found).toHaveLength(1);
  return found[0]!.usd;
};

describe("npm run cost: what the stacks create", () => {
  it("reads the billable resources from the synthesized stacks", () => {
    const found = inventory();
    expect(found.region).toBe("eu-west-1");
    expect(found.instances).toEqual([{ id: expect.stringMatching(/^controller-host_instance_/), instanceType: "t4g.nano", cpuCredits: "standard", rootVolumeGb: 10, rootVolumeType: "gp3" }]);
    expect(found.publicIpv4Addresses).toBe(1);
    expect(found.secrets).toBe(3); // controller identity, controller API token, one claim-certificate batch
    expect(found.emailSubscriptions).toBe(1);
    // responses → CloudWatch Logs + DynamoDB; errors → SNS; lifecycle → presence Lambda
    expect(found.ruleActions).toEqual({ responses: 2, errors: 1, lifecycle: 1 });
    expect(found.keptImages).toBe(30);
    expect(found.polledQueues).toBe(1);
    expect(Object.keys(found.functions)).toHaveLength(4);
    expect(Object.values(found.functions).every((fn) => fn.architecture === "arm64")).toBe(true);
    expect(found.logGroups.map((group) => group.retentionDays)).toEqual(Array(found.logGroups.length).fill(30));
  });
});

describe("npm run cost: hand-computed cases (4 messages per device a day, 4 commands per device a day)", () => {
  const days = 730 / 24;

  it("10 devices: every line", () => {
    const report = estimateCost(inventory(), { devices: 10, messagesPerDevicePerDay: 4, commandsPerDay: 40, agentReleasesPerMonth: 1 });
    // 11 connections (10 devices and the controller), 730 h x 60 min, $0.08 per million minutes
    expect(line(report, "IoT Core", "connectivity")).toBeCloseTo((11 * 730 * 60 * 0.08) / 1e6, 9);
    // 40 commands and 40 device messages a day at QoS 1: publish in, publish out, PUBACK (3 each);
    // 10 reconnects a day: CONNECT and SUBSCRIBE (2 each): 260 metered messages a day
    expect(line(report, "IoT Core", "messages")).toBeCloseTo((260 * days * 1.0) / 1e6, 9);
    // 40 device messages and 20 lifecycle events a day trigger one rule each
    expect(line(report, "IoT Core", "rules triggered")).toBeCloseTo((60 * days * 0.15) / 1e6, 9);
    // 99 % responses run 2 actions, 1 % errors run 1, lifecycle events run 1
    expect(line(report, "IoT Core", "rule actions")).toBeCloseTo(((40 * 0.99 * 2 + 40 * 0.01 + 20) * days * 0.15) / 1e6, 9);
    expect(line(report, "EC2", "controller")).toBeCloseTo(730 * 0.0042, 9); // $3.066
    expect(line(report, "EBS", "controller")).toBeCloseTo(10 * 0.08, 9);
    expect(line(report, "Public IPv4", "1 Elastic IP")).toBeCloseTo(730 * 0.005, 9); // $3.65
    expect(line(report, "Secrets Manager", "3 secret")).toBeCloseTo(3 * 0.4, 9);
    expect(line(report, "KMS", "1 customer managed key")).toBeCloseTo(1, 9); // the state key
    // the state bucket and its access-log bucket, 0.05 GB each at $0.023 per GB-month
    expect(line(report, "S3", "Terraform state (2 bucket")).toBeCloseTo(2 * 0.05 * 0.023, 9);
    expect(line(report, "ECR", "image storage")).toBeCloseTo((0.15 + 30 * 0.05) * 0.1, 9);
    // 10 disconnects a day: send, receive, delete; plus 5 idle pollers x 3 receives a minute
    expect(line(report, "SQS", "requests")).toBeCloseTo(((10 * 3 * days + 5 * 3 * 60 * 730) * 0.4) / 1e6, 9);
    // 20 lifecycle events + 10 delayed checks at 256 MB x 0.1 s, one daily check at 256 MB x 2 s
    expect(line(report, "Lambda", "compute")).toBeCloseTo((30 * 0.25 * 0.1 + 0.25 * 2) * days * 0.0000133334, 9);
    // one agent release: 10 job executions at $0.003, 10 downloads of 46.3 MB at $0.09 per GB, a
    // year of releases stored (12 x 46.3 MB at $0.023 per GB-month)
    expect(line(report, "IoT Jobs", "job executions")).toBeCloseTo(10 * 0.003, 9);
    expect(line(report, "IoT Jobs", "Jobs MQTT messages")).toBeCloseTo((10 * 5 * 1.0) / 1e6, 9);
    expect(line(report, "Data transfer", "release downloads")).toBeCloseTo(10 * 0.0463 * 0.09, 9);
    expect(line(report, "S3", "release storage")).toBeCloseTo(12 * 0.0463 * 0.023, 9);
    expect(line(report, "S3", "release downloads (GET)")).toBeCloseTo((10 * 0.0004) / 1_000, 9);
    expect(report.monthlyTotal).toBeCloseTo(10.2195 + 0.0845, 3);
    expect(report.perDevicePerMonth).toBeCloseTo(1.0304, 3);
    expect(report.onboardingTotal).toBeCloseTo(0.00014, 4);
  });

  it("1,000 devices", () => {
    const report = estimateCost(inventory(), { devices: 1_000, messagesPerDevicePerDay: 4, commandsPerDay: 4_000, agentReleasesPerMonth: 1 });
    expect(line(report, "IoT Core", "connectivity")).toBeCloseTo((1_001 * 43_800 * 0.08) / 1e6, 9); // $3.5075
    expect(line(report, "IoT Core", "messages")).toBeCloseTo(((3 * 8_000 + 2 * 1_000) * days) / 1e6, 9); // $0.7908
    // the release: $3 of job executions, 46.3 GB downloaded ($4.167), $0.0128 of storage
    expect(report.monthlyTotal).toBeCloseTo(14.8275 + 7.1852, 3);
    expect(report.perDevicePerMonth).toBeCloseTo(0.022013, 5);
    expect(report.onboardingTotal).toBeCloseTo(0.0140, 3);
  });

  it("100,000 devices", () => {
    const report = estimateCost(inventory(), { devices: 100_000, messagesPerDevicePerDay: 4, commandsPerDay: 400_000, agentReleasesPerMonth: 1 });
    expect(line(report, "IoT Core", "connectivity")).toBeCloseTo((100_001 * 43_800 * 0.08) / 1e6, 6); // $350.40
    expect(line(report, "DynamoDB", "writes")).toBeCloseTo(((400_000 * 0.99 + 200_000) * days * 0.625) / 1e6, 6); // $11.33
    expect(line(report, "CloudWatch Logs", "ingestion")).toBeCloseTo(5.764, 3);
    expect(line(report, "IoT Core", "messages")).toBeCloseTo(((3 * 800_000 + 2 * 100_000) * days) / 1e6, 6); // $79.08
    // One release to 100,000 devices costs more than everything else together: 4.63 TB out ($416.70)
    // and 100,000 job executions ($300).
    expect(line(report, "Data transfer", "release downloads")).toBeCloseTo(100_000 * 0.0463 * 0.09, 6);
    expect(line(report, "IoT Jobs", "job executions")).toBeCloseTo(300, 6);
    expect(report.monthlyTotal).toBeCloseTo(475.6295 + 717.2528, 2);
    expect(report.perDevicePerMonth).toBeCloseTo(0.011929, 5);
    const withoutReleases = estimateCost(inventory(), { devices: 100_000, messagesPerDevicePerDay: 4, commandsPerDay: 400_000, agentReleasesPerMonth: 0 });
    expect(withoutReleases.monthlyTotal).toBeCloseTo(475.6295, 2);
    expect(withoutReleases.monthly.filter((l) => l.service === "IoT Jobs" || l.service === "Data transfer")).toEqual([]);
    expect(report.onboardingTotal).toBeCloseTo(1.4025, 3);
  });

  it("prints every service the issue asks for, the total and the cost per device", () => {
    const text = formatReport(estimateCost(inventory(), { devices: 10, messagesPerDevicePerDay: 4, commandsPerDay: 40, agentReleasesPerMonth: 1 }));
    const services = ["IoT Core", "DynamoDB", "SNS", "SQS", "Lambda", "EC2", "Public IPv4", "EBS", "Secrets Manager", "ECR", "API Gateway", "CloudWatch Logs", "S3", "IoT Jobs", "Data transfer", "Fleet provisioning"];
    expect(services.filter((service) => !text.includes(service))).toEqual([]);
    expect(text).toContain("Total per month          $10.30");
    expect(text).toContain("Per device                $1.03 a month");
    expect(text).toContain(`table ${priceTable.version}`);
  });
});

describe("npm run cost: the price table", () => {
  it("names a source and a check date for every price", () => {
    const prices = Object.entries(priceTable.prices);
    expect(prices.length).toBe(28);
    for (const [id, price] of prices) {
      expect([id, price.source]).toEqual([id, expect.stringMatching(/^https:\/\//)]);
      expect([id, price.checked]).toEqual([id, expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/)]);
      expect(price.usd).toBeGreaterThan(0);
    }
  });
});

describe("npm run cost: bad input", () => {
  it("rejects missing, negative, fractional and unknown flags with a message that names them", () => {
    expect(() => parseCostArguments([])).toThrow("--devices is required");
    expect(() => parseCostArguments(["--devices=-3"])).toThrow('--devices must be a number >= 0, got "-3"');
    expect(() => parseCostArguments(["--devices", "2.5"])).toThrow("--devices must be a whole number >= 1");
    expect(() => parseCostArguments(["--devices", "10", "--commands-per-day", "many"])).toThrow('--commands-per-day must be a number >= 0, got "many"');
    expect(() => parseCostArguments(["--devices", "10", "--device", "3"])).toThrow(/device/);
    expect(parseCostArguments(["--devices", "10", "--json"])).toEqual({ json: true, workload: { devices: 10, messagesPerDevicePerDay: 4, commandsPerDay: 40, agentReleasesPerMonth: 1 } });
    expect(parseCostArguments(["--devices", "10", "--releases-per-month", "0"]).workload.agentReleasesPerMonth).toBe(0);
    expect(() => parseCostArguments(["--devices", "10", "--releases-per-month=-1"])).toThrow('--releases-per-month must be a number >= 0, got "-1"');
  });

  it("refuses a resource it has no price for instead of guessing", () => {
    const larger = { ...inventory(), instances: [{ id: "controller", instanceType: "t4g.small", cpuCredits: "standard", rootVolumeGb: 10, rootVolumeType: "gp3" }] };
    expect(() => estimateCost(larger, { devices: 1, messagesPerDevicePerDay: 0, commandsPerDay: 0, agentReleasesPerMonth: 0 })).toThrow("t4g.small; the price table prices t4g.nano only");
  });

  it("exits 2 with the usage on the command line", async () => {
    const run = promisify(execFile)("npx", ["tsx", join(__dirname, "../../scripts/cost.ts"), "--devices", "0"], { cwd: join(__dirname, "../..") });
    await expect(run).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining("--devices must be a whole number >= 1") });
  }, 30_000);
});
