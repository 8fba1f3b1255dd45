import { generateKeyPairSync } from "node:crypto";
import {
  agentJobDocumentSchema,
  agentReleaseJobId,
  agentReleaseObjectKey,
  releasePublicKeyFromBase64,
  releasePublicKeyToBase64,
  signRelease,
  verifyReleaseSignature,
} from "../contracts/agent-release";
import { jobsTopics } from "../contracts/topics";

const sha = "a".repeat(64);

describe("agent release contract", () => {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");

  test("a signature verifies through the config's base64 form and only for its own version and sha256", () => {
    const signature = signRelease(privateKey, "1.2.0", sha);
    const configured = releasePublicKeyFromBase64(releasePublicKeyToBase64(publicKey));
    expect(releasePublicKeyToBase64(publicKey)).toHaveLength(44);
    expect(verifyReleaseSignature(configured, "1.2.0", sha, signature)).toBe(true);
    expect(verifyReleaseSignature(configured, "1.3.0", sha, signature)).toBe(false);
    expect(verifyReleaseSignature(configured, "1.2.0", "b".repeat(64), signature)).toBe(false);
    const other = generateKeyPairSync("ed25519").publicKey;
    expect(verifyReleaseSignature(other, "1.2.0", sha, signature)).toBe(false);
  });

  test("refuses a signing key that is not Ed25519 and a public key of the wrong length", () => {
    const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
    expect(() => signRelease(rsa, "1.2.0", sha)).toThrow("must be Ed25519");
    expect(() => releasePublicKeyFromBase64(Buffer.alloc(31).toString("base64"))).toThrow("32 bytes");
  });

  test("the job document schema accepts a signed release and names what is wrong otherwise", () => {
    const document = { operation: "agent-update", version: "1.2.0", url: "https://example.test/x", sha256: sha, signature: signRelease(privateKey, "1.2.0", sha) };
    expect(agentJobDocumentSchema.safeParse(document).success).toBe(true);
    expect(agentJobDocumentSchema.safeParse({ ...document, operation: "reboot" }).success).toBe(false);
    expect(agentJobDocumentSchema.safeParse({ ...document, sha256: "XYZ" }).success).toBe(false);
    expect(agentJobDocumentSchema.safeParse({ ...document, extra: 1 }).success).toBe(false);
  });

  test("object keys, job ids and jobs topics", () => {
    expect(agentReleaseObjectKey("1.2.0")).toBe("agent/1.2.0/smart-home-agent-1.2.0-linux-arm64.tar.gz");
    expect(agentReleaseJobId("smarthome-dev", "1.2.0-rc.1", "20261128T0700")).toBe("smarthome-dev-agent-1_2_0-rc_1-20261128T0700");
    // Two environments in one account never share a job id.
    expect(agentReleaseJobId("smarthome-prod", "1.2.0", "1")).not.toBe(agentReleaseJobId("smarthome-dev", "1.2.0", "1"));
    expect(() => agentReleaseJobId("smarthome-dev", "1.2.0", "x".repeat(50))).toThrow("not a valid IoT job id");
    const topics = jobsTopics("smarthome-dev-SN1");
    expect(topics.notifyNext).toBe("$aws/things/smarthome-dev-SN1/jobs/notify-next");
    expect(topics.accepted(topics.startNext)).toBe("$aws/things/smarthome-dev-SN1/jobs/start-next/accepted");
    expect(topics.rejected(topics.update("j1"))).toBe("$aws/things/smarthome-dev-SN1/jobs/j1/update/rejected");
  });
});
