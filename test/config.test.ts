import { environments, loadEnvironment, parseEnvironment } from "../config";

const valid = { ...environments.dev };

function problemsWith(overrides: Record<string, unknown>): string {
  try {
    parseEnvironment({ ...valid, ...overrides }, "test config");
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected the config to be rejected");
}

describe("environment config", () => {
  it("loads the default environment with no AWS account and fills in defaults", () => {
    const config = loadEnvironment("dev");
    expect(config.name).toBe("dev");
    expect(config.controller.instanceType).toBe("t4g.nano");
    expect(config.controller.port).toBe(8080);
    expect(config.network.vpcCidr).toBe("10.20.0.0/16");
    expect(config.logRetentionDays).toBe(30);
    expect(config.github.deployBranch).toBe("main");
  });

  it("picks the environment from SMART_HOME_ENV, defaulting to dev", () => {
    const before = process.env.SMART_HOME_ENV;
    try {
      delete process.env.SMART_HOME_ENV;
      expect(loadEnvironment().name).toBe("dev");
      process.env.SMART_HOME_ENV = "staging";
      expect(() => loadEnvironment()).toThrow(/SMART_HOME_ENV=staging names no environment; known: dev/);
    } finally {
      if (before === undefined) delete process.env.SMART_HOME_ENV;
      else process.env.SMART_HOME_ENV = before;
    }
  });

  it.each([
    [{ adminCidrs: ["0.0.0.0/0"] }, /adminCidrs\.0: opens admin ports to the whole internet/],
    [{ adminCidrs: ["10.0.0.5/24"] }, /adminCidrs\.0: "10\.0\.0\.5\/24" has host bits set; did you mean 10\.0\.0\.0\/24\?/],
    [{ apiCidrs: ["300.1.1.0/24"] }, /apiCidrs\.0: .*octets go up to 255/],
    [{ apiCidrs: ["example.com"] }, /apiCidrs\.0: "example\.com" is not an IPv4 CIDR/],
    [{ controller: { instanceType: "t4c.nano" } }, /controller\.instanceType: "t4c\.nano" does not exist .*did you mean "t4g\.nano"/],
    [{ controller: { instanceType: "t3.nano" } }, /controller\.instanceType: "t3\.nano" is not a burstable Graviton type/],
    [{ controller: { imageTag: "latest" } }, /controller\.imageTag: .*never 'latest'/],
    [{ controller: { port: 22 } }, /controller\.port/],
    [{ region: "Europe" }, /region: must be an AWS region/],
    [{ accountId: "1234" }, /accountId: must be a 12-digit AWS account id/],
    [{ project: "Smart_Home" }, /project: must be lowercase letters, digits and hyphens/],
    [{ stateBucket: "My_Bucket" }, /stateBucket: must be a valid S3 bucket name/],
    [{ alerts: { emails: ["not-an-email"] } }, /alerts\.emails\.0: must be an e-mail address/],
    [{ alerts: { offlineGraceSeconds: 3600 } }, /alerts\.offlineGraceSeconds: at most 900 seconds/],
    [{ alerts: { dailyCheckSchedule: "every day" } }, /alerts\.dailyCheckSchedule: must be an EventBridge schedule/],
    [{ github: { repository: "just-a-name" } }, /github\.repository: must be a GitHub repository as owner\/repo/],
    [{ network: { publicSubnetCidr: "192.168.0.0/24" } }, /network\.publicSubnetCidr: 192\.168\.0\.0\/24 is not inside the VPC 10\.20\.0\.0\/16/],
    [{ network: { availabilityZone: "us-east-1a" } }, /network\.availabilityZone: us-east-1a is not in region eu-west-1/],
    [{ logRetentionDays: 10 }, /logRetentionDays: must be one of CloudWatch's retention values/],
    [{ sshKey: "ssh-rsa AAAA" }, /Unrecognized key: "sshKey"/],
  ])("rejects %j naming the field", (overrides, message) => {
    expect(problemsWith(overrides)).toMatch(message);
  });

  it("lists every problem at once", () => {
    const message = problemsWith({ region: "nowhere", adminCidrs: ["0.0.0.0/0"] });
    expect(message).toMatch(/^test config is invalid:/);
    expect(message).toMatch(/region/);
    expect(message).toMatch(/adminCidrs\.0/);
  });

  it("accepts the immutable-id form of a GitHub repository", () => {
    expect(parseEnvironment({ ...valid, github: { repository: "octo@123/app@456" } }).github.repository).toBe("octo@123/app@456");
  });
});
