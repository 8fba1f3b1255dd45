import { execFile, execFileSync } from "node:child_process";
import { createHash, generateKeyPairSync } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { parse } from "yaml";
import { environments, parseEnvironment } from "../../config";
import { projectNames } from "../../contracts/names";
import { releasePublicKeyToBase64 } from "../../contracts/agent-release";
import { parseAgentConfig } from "../../pi-agent/config";
import { startAwsStandIn, type AwsStandIn } from "../../local/aws-services";
import { localCaPath, localClaimFiles } from "../../local/state-files";
import { BOOT_FILES, BOOT_FOLDER } from "../../scripts/pi-image/cloud-init";
import { FatImage } from "../../scripts/pi-image/fat";
import { main } from "../../scripts/pi-image/main";
import { findBootPartition } from "../../scripts/pi-image/partition-table";
import { BOOT_START_SECTOR, makeAgentRelease, makeDiskImage, makeLocalPlatformFolder, STOCK_META_DATA, STOCK_USER_DATA } from "./fixtures";

const run = promisify(execFile);
const repo = join(__dirname, "..", "..");
const dev = projectNames("smarthome", "dev");
const BATCH = "batch-1";

let work: string;
let stock: string;
let release: string;
let platformFolder: string;
let stockSha256: string;
beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "pi-image-test-"));
  stock = join(work, "raspios-lite.img");
  makeDiskImage(stock);
  stockSha256 = sha256(readFileSync(stock));
  release = makeAgentRelease(work);
  platformFolder = join(work, "local-platform");
  await makeLocalPlatformFolder(platformFolder, [BATCH]);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const sha256 = (content: string | Buffer) => createHash("sha256").update(content).digest("hex");
const bootOf = (image: string) => new FatImage(image, findBootPartition(image).offsetBytes);
const args = (out: string, extra: string[] = []) => ["--image", stock, "--batch", BATCH, "--agent-release", release, "--out", out, ...extra];
const localArgs = (out: string, extra: string[] = []) => args(out, ["--claim-from", platformFolder, "--endpoint", "192.168.1.20:8883", ...extra]);

/** Every file pi:image writes, read back from the image with mcopy. */
function readBootFiles(image: string) {
  const boot = bootOf(image);
  const read = (path: string) => boot.read(path)?.toString("utf8");
  return {
    root: boot.list().sort(),
    folder: boot.list(BOOT_FOLDER).sort(),
    userData: read("user-data"),
    metaData: read("meta-data"),
    networkConfig: read("network-config"),
    configTxt: read("config.txt"),
    claimCertificate: read(`${BOOT_FOLDER}/${BOOT_FILES.claimCertificate}`),
    claimKey: read(`${BOOT_FOLDER}/${BOOT_FILES.claimKey}`),
    ca: read(`${BOOT_FOLDER}/${BOOT_FILES.ca}`),
    config: JSON.parse(read(`${BOOT_FOLDER}/${BOOT_FILES.config}`) ?? "null"),
    hook: read(`${BOOT_FOLDER}/${BOOT_FILES.hook}`),
    release: boot.read(`${BOOT_FOLDER}/${BOOT_FILES.release}`),
  };
}

const pemPlaceholder = (label: string, body: string) => `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;

describe("the partition table", () => {
  it("finds the FAT32 boot partition of an MBR image at its offset", () => {
    expect(findBootPartition(stock)).toEqual({ number: 1, scheme: "mbr", offsetBytes: BOOT_START_SECTOR * 512, sizeBytes: 131072 * 512 });
  });

  it("finds it in a GPT image too", () => {
    const image = join(work, "gpt.img");
    makeDiskImage(image, { label: "gpt" });
    expect(findBootPartition(image)).toEqual({ number: 1, scheme: "gpt", offsetBytes: BOOT_START_SECTOR * 512, sizeBytes: 131072 * 512 });
  });

  it("refuses an image whose partitions hold no FAT file system", () => {
    const image = join(work, "no-fat.img");
    makeDiskImage(image, { fat: false });
    expect(() => findBootPartition(image)).toThrow(/has no FAT boot partition \(partitions 1: 0x83, 2: 0x83\)/);
  });
});

describe("npm run pi:image with the local platform's claim", () => {
  let out: string;
  beforeAll(async () => {
    out = join(work, "local.img");
    const { stdout } = await run(process.execPath, ["--import", "tsx", "scripts/pi-image/main.ts", ...localArgs(out)], { cwd: repo });
    expect(stdout).toContain(`wrote ${out}: batch ${BATCH}, endpoint 192.168.1.20:8883`);
  }, 60_000);

  it("writes the claim, CA, config, release, hook and cloud-init seed to the boot partition, keeping the stock files", () => {
    const files = readBootFiles(out);
    const claim = localClaimFiles(platformFolder, BATCH);
    expect(files.root).toEqual(["config.txt", "meta-data", BOOT_FOLDER, "user-data"]);
    expect(files.folder).toEqual(Object.values(BOOT_FILES).sort());
    expect(files.configTxt).toBe("arm_64bit=1\n");
    expect(files.claimCertificate).toBe(readFileSync(claim.certificatePath, "utf8"));
    expect(files.claimKey).toBe(readFileSync(claim.privateKeyPath, "utf8"));
    expect(files.ca).toBe(readFileSync(localCaPath(platformFolder), "utf8"));
    expect(files.hook).toBe(readFileSync(join(repo, "scripts", "pi-image", "first-boot.sh"), "utf8"));
    expect(sha256(files.release!)).toBe(sha256(readFileSync(release)));
    expect(files.config).toEqual({
      endpoint: "192.168.1.20",
      port: 8883,
      caPath: "/etc/smart-home-agent/ca.pem",
      claim: { certificatePath: "/etc/smart-home-agent/claim/claim.pem", privateKeyPath: "/etc/smart-home-agent/claim/claim.key" },
      project: "smarthome",
      environment: "dev",
    });
    // The image's own seed is kept: its settings and runcmd entries, with ours appended and a new instance id.
    expect(parse(files.metaData!)).toEqual({ ...parse(STOCK_META_DATA), "instance-id": expect.stringMatching(/^smart-home-batch-1-[0-9a-f-]{36}$/) });
    expect(files.userData!.startsWith("#cloud-config\n")).toBe(true);
    expect(parse(files.userData!)).toEqual({
      hostname: "raspberrypi",
      runcmd: [
        ["echo", "stock image"],
        ["sh", "/boot/firmware/smart-home/first-boot.sh", "/boot/firmware", "/"],
      ],
    });
  });

  it("is readable by its owner only: it holds the claim key", () => {
    expect(statSync(out).mode & 0o777).toBe(0o600);
  });

  it("leaves the stock image unchanged", () => {
    expect(sha256(readFileSync(stock))).toBe(stockSha256);
    expect(bootOf(stock).list().sort()).toEqual(["config.txt", "meta-data", "user-data"]);
    expect(bootOf(stock).read("user-data")!.toString()).toBe(STOCK_USER_DATA);
  });

  it("writes user-data that cloud-init's own schema accepts", () => {
    const userData = join(work, "user-data");
    writeFileSync(userData, readBootFiles(out).userData!);
    const result = execFileSync("cloud-init", ["schema", "--config-file", userData], { encoding: "utf8" });
    expect(result).toMatch(/Valid cloud-config/);
  });
});

/**
 * Secrets Manager is local/aws-services.ts's stand-in (GetSecretValue over the real JSON 1.1 wire
 * protocol, reached by the real SDK client through AWS_ENDPOINT_URL_SECRETS_MANAGER): no free local
 * Secrets Manager runs here. The secret's shape is modules/claim-certificate.ts's.
 */
describe("npm run pi:image with the iot-fleet stack's secret", () => {
  let services: AwsStandIn;
  beforeAll(async () => {
    services = await startAwsStandIn();
  });
  afterAll(() => services.close());

  it("reads the batch's secret (local Secrets Manager stand-in) and writes its claim and IoT endpoint", async () => {
    const secret = {
      endpoint: "abc123-ats.iot.eu-west-1.amazonaws.com",
      templateName: dev.provisioningTemplate,
      clientIdPrefix: dev.provisioningClientPrefix,
      batch: BATCH,
      // PEM-shaped placeholders: pi:image copies them byte for byte (no real key in the repo).
      certificatePem: pemPlaceholder("CERTIFICATE", "MIIB"),
      privateKey: pemPlaceholder("RSA PRIVATE KEY", "MIIE"),
      caPem: pemPlaceholder("CERTIFICATE", "AmazonRootCA1"),
    };
    services.secrets.set(dev.claimSecret(BATCH), JSON.stringify(secret));
    const out = join(work, "aws.img");
    const { stdout } = await run(process.execPath, ["--import", "tsx", "scripts/pi-image/main.ts", ...args(out, ["--claim-from", "secret"])], {
      cwd: repo,
      env: { ...process.env, ...services.env },
    });
    expect(stdout).toContain(`endpoint ${secret.endpoint}:8883`);
    const files = readBootFiles(out);
    expect([files.claimCertificate, files.claimKey, files.ca]).toEqual([secret.certificatePem, secret.privateKey, secret.caPem]);
    expect(files.config).toMatchObject({ endpoint: secret.endpoint, port: 8883, project: "smarthome", environment: "dev" });
  }, 60_000);

  it("refuses a batch whose secret is missing or belongs to another environment", async () => {
    const { loadClaimBundle } = await import("../../scripts/pi-image/claim-bundle");
    const secretsManager = new SecretsManagerClient({
      region: services.env.AWS_REGION,
      endpoint: services.env.AWS_ENDPOINT_URL_SECRETS_MANAGER,
      credentials: { accessKeyId: services.env.AWS_ACCESS_KEY_ID!, secretAccessKey: services.env.AWS_SECRET_ACCESS_KEY! },
    });
    const config = parseEnvironment({ ...environments.dev, fleet: { batches: [{ name: "batch-1", active: true }, { name: "batch-2", active: true }] } });
    await expect(loadClaimBundle({ from: "secret", batch: "batch-2", config, secretsManager })).rejects.toThrow(
      "no secret smarthome-dev/claim/batch-2: is batch batch-2 deployed",
    );
    const other = JSON.parse(services.secrets.get(dev.claimSecret(BATCH))!);
    services.secrets.set(dev.claimSecret("batch-2"), JSON.stringify({ ...other, batch: "batch-2", templateName: "smarthome-prod-fleet" }));
    await expect(loadClaimBundle({ from: "secret", batch: "batch-2", config, secretsManager })).rejects.toThrow(
      "is for batch batch-2 and template smarthome-prod-fleet, not batch-2 and smarthome-dev-fleet",
    );
  });
});

/** Runs pi:image against an existing output and asserts the output and its folder are as before. */
async function expectRefusal(argv: string[], message: RegExp, environment: NodeJS.ProcessEnv = {}) {
  const folder = mkdtempSync(join(work, "refusal-"));
  const out = join(folder, "out.img");
  writeFileSync(out, "previous image");
  await expect(main(argv.map((arg) => (arg === "OUT" ? out : arg)), environment)).rejects.toThrow(message);
  expect(readFileSync(out, "utf8")).toBe("previous image");
  expect(readdirSync(folder)).toEqual(["out.img"]);
}

describe("refusals change nothing", () => {

  it("an image without a FAT boot partition", async () => {
    const image = join(work, "refused-no-fat.img");
    makeDiskImage(image, { fat: false });
    await expectRefusal(localArgs("OUT").map((arg) => (arg === stock ? image : arg)), /has no FAT boot partition/);
  });

  it("an image whose user-data is not cloud-config", async () => {
    const image = join(work, "script-user-data.img");
    makeDiskImage(image, { userData: "#!/bin/sh\necho hello\n" });
    await expectRefusal(localArgs("OUT").map((arg) => (arg === stock ? image : arg)), /the image's user-data is not #cloud-config/);
  });

  it("an output that is the stock image itself", async () => {
    await expect(main(localArgs(stock), {})).rejects.toThrow("--out must differ from --image");
    expect(sha256(readFileSync(stock))).toBe(stockSha256);
  });

  it("a batch the environment does not list", async () => {
    await expectRefusal(localArgs("OUT").map((arg) => (arg === BATCH ? "batch-9" : arg)), /batch batch-9 is not in environment dev; its batches: batch-1/);
  });

  it("a batch whose claim the local platform folder lacks", async () => {
    await expectRefusal(localArgs("OUT").map((arg) => (arg === platformFolder ? join(work, "empty") : arg)), /has no claim of batch batch-1/);
  });

  it("a release that is not an agent release", async () => {
    const notRelease = join(work, "not-release.tar.gz");
    execFileSync("tar", ["-czf", notRelease, "-C", work, "local-platform"]);
    await expectRefusal(localArgs("OUT").map((arg) => (arg === release ? notRelease : arg)), /is not an agent release/);
  });

  it("a release public key that is not an Ed25519 key in base64", async () => {
    await expectRefusal(localArgs("OUT", ["--release-public-key", "not-a-key"]), /release\.publicKey: must be the release public key as 44 characters of base64/);
  });

  it("a Wi-Fi passphrase on the command line, in a file others can read, or too short", async () => {
    await expectRefusal(localArgs("OUT", ["--wifi-ssid", "home", "--wifi-passphrase", "secret-passphrase"]), /never taken from the command line/);
    const passphraseFile = join(work, "wifi-passphrase");
    writeFileSync(passphraseFile, "correct horse battery\n");
    chmodSync(passphraseFile, 0o644);
    await expectRefusal(localArgs("OUT", ["--wifi-ssid", "home", "--wifi-passphrase-file", passphraseFile]), /readable by others \(mode 644\)/);
    await expectRefusal(localArgs("OUT", ["--wifi-ssid", "home"]), /needs its passphrase from --wifi-passphrase-file/);
    await expectRefusal(localArgs("OUT", ["--wifi-ssid", "home"]), /8 to 63 printable ASCII/, { PI_IMAGE_WIFI_PASSPHRASE: "short" });
  });

  it("a retired batch (active: false), whatever the claim source", async () => {
    const { loadClaimBundle } = await import("../../scripts/pi-image/claim-bundle");
    const config = parseEnvironment({ ...environments.dev, fleet: { batches: [{ name: "batch-1", active: true }, { name: "old", active: false }] } });
    for (const from of ["secret", platformFolder]) {
      await expect(loadClaimBundle({ from, batch: "old", config, endpoint: "pi-host" })).rejects.toThrow(/batch old is retired \(active: false in environment dev\)/);
    }
  });
});

describe("over-the-air updates", () => {
  it("writes the release public key into the agent config, which the agent's own schema accepts", async () => {
    const publicKey = releasePublicKeyToBase64(generateKeyPairSync("ed25519").publicKey);
    const out = join(work, "release-key.img");
    const summary = await main(localArgs(out, ["--release-public-key", publicKey]), {});
    expect(summary).toContain(`over-the-air updates: signed with release key ${publicKey}`);
    const { config } = readBootFiles(out);
    expect(config).toMatchObject({ release: { publicKey } });
    expect(parseAgentConfig(config).release.publicKey).toBe(publicKey);
  });

  describe("with the key in the environment's config (fleet.releasePublicKey)", () => {
    const configured = releasePublicKeyToBase64(generateKeyPairSync("ed25519").publicKey);
    const stockDev = environments.dev!;
    // The registry loadEnvironment reads, for this test file only (jest loads modules per file).
    let replaced: jest.ReplaceProperty<unknown>;
    beforeAll(() => void (replaced = jest.replaceProperty(environments, "dev", { ...stockDev, fleet: { ...stockDev.fleet, releasePublicKey: configured } })));
    afterAll(() => replaced.restore());

    it("writes the configured key without a flag, and says where it came from", async () => {
      const out = join(work, "configured-key.img");
      const summary = await main(localArgs(out), {});
      expect(summary).toContain(`over-the-air updates: signed with release key ${configured} (from environment dev's fleet.releasePublicKey)`);
      expect(readBootFiles(out).config).toMatchObject({ release: { publicKey: configured } });
      await main(localArgs(join(work, "configured-key-again.img"), ["--release-public-key", configured]), {});
    });

    it("refuses a flag that disagrees with it, changing nothing", async () => {
      const other = releasePublicKeyToBase64(generateKeyPairSync("ed25519").publicKey);
      await expectRefusal(localArgs("OUT", ["--release-public-key", other]), /is not environment dev's fleet\.releasePublicKey .*: its devices would reject every release signed for dev/);
    });
  });

  it("the environment config refuses a fleet.releasePublicKey that is not an Ed25519 key in base64, naming the field", () => {
    expect(() => parseEnvironment({ ...environments.dev, fleet: { releasePublicKey: Buffer.alloc(31).toString("base64") } }, "environment dev")).toThrow(
      /fleet\.releasePublicKey: must be the release public key as 44 characters of base64/,
    );
  });
});

describe("Wi-Fi", () => {
  it("takes the passphrase from a 0600 file and writes it into network-config only", async () => {
    const passphraseFile = join(work, "wifi-private");
    writeFileSync(passphraseFile, 'p@ss: "word" #1\n', { mode: 0o600 });
    const out = join(work, "wifi.img");
    await main(localArgs(out, ["--wifi-ssid", "Home Net", "--wifi-passphrase-file", passphraseFile]), {});
    const files = readBootFiles(out);
    expect(parse(files.networkConfig!)).toEqual({
      network: {
        version: 2,
        ethernets: { eth0: { dhcp4: true, optional: true } },
        wifis: { wlan0: { dhcp4: true, "access-points": { "Home Net": { password: 'p@ss: "word" #1' } } } },
      },
    });
    expect(files.userData).not.toContain("word");
  });
});

describe("the first-boot hook", () => {
  const hook = join(repo, "scripts", "pi-image", "first-boot.sh");

  it("passes shellcheck as POSIX sh", () => {
    expect(execFileSync("shellcheck", ["--shell=sh", "--severity=style", hook], { encoding: "utf8" })).toBe("");
  });

  /** A scratch boot partition holding what pi:image wrote (copied out of a built image with mcopy) and a scratch root. */
  async function scratchDevice(name: string) {
    const out = join(work, `${name}.img`);
    await main(localArgs(out), {});
    const device = join(work, name);
    const boot = join(device, "boot");
    mkdirSync(join(boot, BOOT_FOLDER), { recursive: true });
    const fat = bootOf(out);
    for (const file of Object.values(BOOT_FILES)) writeFileSync(join(boot, BOOT_FOLDER, file), fat.read(`${BOOT_FOLDER}/${file}`)!);
    const root = join(device, "root");
    mkdirSync(root);
    return { boot, root, record: join(device, "install-record"), claim: localClaimFiles(platformFolder, BATCH), config: readBootFiles(out).config };
  }

  it("moves the claim off the boot partition into a root-only folder at 0600, runs install.sh with it, and cleans up", async () => {
    const device = await scratchDevice("first-boot");
    execFileSync("sh", [hook, device.boot, device.root], { env: { ...process.env, INSTALL_RECORD: device.record }, stdio: "pipe" });

    const staging = join(device.root, "var", "lib", "smart-home-agent-first-boot");
    const [argsLine, ...files] = readFileSync(device.record, "utf8").trim().split("\n");
    expect(argsLine).toBe(`args --claim-cert ${staging}/claim.pem --claim-key ${staging}/claim.key --config ${staging}/config.json`);
    // Each file install.sh was given: mode 600, in a folder of mode 700, with the claim's content.
    expect(files).toEqual([
      `--claim-cert 600 700 ${sha256(readFileSync(device.claim.certificatePath))}`,
      `--claim-key 600 700 ${sha256(readFileSync(device.claim.privateKeyPath))}`,
      `--config 600 700 ${sha256(`${JSON.stringify(device.config, null, 2)}\n`)}`,
    ]);
    expect(readdirSync(join(device.boot, BOOT_FOLDER))).toEqual([BOOT_FILES.hook]);
    expect(existsSync(staging)).toBe(false);
    const ca = join(device.root, device.config.caPath);
    expect(readFileSync(ca, "utf8")).toBe(readFileSync(localCaPath(platformFolder), "utf8"));
    expect(statSync(ca).mode & 0o777).toBe(0o644);
  });

  it("keeps the claim off the boot partition and at 0600 when install.sh fails, and finishes when run again", async () => {
    const device = await scratchDevice("first-boot-retry");
    const env = { ...process.env, INSTALL_RECORD: device.record };
    expect(() => execFileSync("sh", [hook, device.boot, device.root], { env: { ...env, INSTALL_EXIT: "1" }, stdio: "pipe" })).toThrow();

    const staging = join(device.root, "var", "lib", "smart-home-agent-first-boot");
    expect(readdirSync(join(device.boot, BOOT_FOLDER)).sort()).toEqual([BOOT_FILES.hook, BOOT_FILES.release].sort());
    expect(statSync(staging).mode & 0o777).toBe(0o700);
    expect(statSync(join(staging, "claim.key")).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(staging, "claim.key"), "utf8")).toBe(readFileSync(device.claim.privateKeyPath, "utf8"));

    execFileSync("sh", [hook, device.boot, device.root], { env, stdio: "pipe" });
    expect(readdirSync(join(device.boot, BOOT_FOLDER))).toEqual([BOOT_FILES.hook]);
    expect(existsSync(staging)).toBe(false);
  });

  it("refuses with no claim anywhere and changes nothing on the boot partition", async () => {
    const device = await scratchDevice("first-boot-no-claim");
    rmSync(join(device.boot, BOOT_FOLDER, BOOT_FILES.claimKey));
    const result = (() => {
      try {
        execFileSync("sh", [hook, device.boot, device.root], { env: { ...process.env, INSTALL_RECORD: device.record }, stdio: "pipe" });
        return "";
      } catch (error) {
        return String((error as { stderr: Buffer }).stderr);
      }
    })();
    expect(result).toMatch(/claim\.key is neither on the boot partition .* re-flash the card/);
    expect(readdirSync(join(device.boot, BOOT_FOLDER)).length).toBe(Object.values(BOOT_FILES).length - 1);
    expect(existsSync(device.record)).toBe(false);
  });
});
