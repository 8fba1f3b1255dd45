import { z } from "zod";
import { isReleasePublicKeyBase64, RELEASE_PUBLIC_KEY_FORMAT } from "../contracts/agent-release";
import { BATCH_PATTERN } from "../contracts/serial-registry";
import { parseIpv4Cidr } from "./cidr";

/** The values CloudWatch Logs accepts for a log group's retention. */
const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

const lowerKebab = /^[a-z][a-z0-9-]*[a-z0-9]$/;

/** AWS commercial, GovCloud and China region names, e.g. eu-west-1, us-gov-west-1. */
const awsRegion = z
  .string()
  .regex(/^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/, "must be an AWS region such as eu-west-1");

const ipv4Cidr = z.string().superRefine((value, ctx) => {
  const parsed = parseIpv4Cidr(value);
  if ("error" in parsed) ctx.addIssue({ code: "custom", message: parsed.error });
});

/** Admin ports are never opened to the whole internet (CIS AWS 6.3, checkov CKV_AWS_24). */
const adminCidr = ipv4Cidr.refine((value) => !value.endsWith("/0"), {
  message: "opens admin ports to the whole internet; list the specific networks that need SSH",
});

/**
 * Burstable Graviton (arm64) types only: the AMI and the controller image are arm64, and a
 * burstable type is what the "standard" CPU credit setting applies to.
 */
const instanceType = z.string().superRefine((value, ctx) => {
  if (/^t4c\./.test(value)) {
    ctx.addIssue({
      code: "custom",
      message: `"${value}" does not exist (there is no t4c family); did you mean "${value.replace(/^t4c/, "t4g")}"?`,
    });
  } else if (!/^t4g\.(nano|micro|small|medium|large|xlarge|2xlarge)$/.test(value)) {
    ctx.addIssue({
      code: "custom",
      message: `"${value}" is not a burstable Graviton type; use one of t4g.nano … t4g.2xlarge (the AMI and image are arm64)`,
    });
  }
});

const s3BucketName = z
  .string()
  .min(3)
  .max(63)
  .regex(/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/, "must be a valid S3 bucket name (lowercase letters, digits, dots, hyphens)")
  .refine((value) => !/\.\.|^\d+\.\d+\.\d+\.\d+$/.test(value), "must not contain '..' or look like an IP address");

/** The image tag that means "no image pushed yet": the ec2 stack then starts no container. */
export const BOOTSTRAP_IMAGE_TAG = "bootstrap";

export const environmentSchema = z
  .object({
    /** Environment name; the `<env>` part of state keys and resource names. */
    name: z.string().min(2).max(12).regex(lowerKebab, "must be lowercase letters, digits and hyphens"),
    /** AWS region every stack deploys to. */
    region: awsRegion,
    /**
     * When set, Terraform refuses to run against any other account (provider `allowed_account_ids`).
     * @default - any account the credentials belong to
     */
    accountId: z.string().regex(/^\d{12}$/, "must be a 12-digit AWS account id").optional(),
    /**
     * An administrator role (its ARN, as `aws:PrincipalArn` reports it) that may read the project's
     * secrets and its Terraform state besides CI's roles: the way in when CI cannot, e.g. to refresh
     * the iot stack or read a claim certificate for a device image. Everyone else is denied by the
     * resource policies, administrators included.
     * @default - none: only the roles that need them read secrets and state
     */
    breakGlassAdminRoleArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, "must be the ARN of an IAM role, e.g. arn:aws:iam::123456789012:role/Admin")
      .optional(),
    /** Prefix of every resource name, e.g. `smarthome` gives `smarthome-dev-…`. */
    project: z.string().min(2).max(16).regex(lowerKebab, "must be lowercase letters, digits and hyphens"),
    /**
     * S3 bucket that holds every stack's Terraform state; created by the `state` stack with its
     * access-log bucket `<stateBucket>-logs` (so at most 58 characters).
     */
    stateBucket: s3BucketName.refine((name) => name.length <= 58, "at most 58 characters: the state stack also creates <stateBucket>-logs"),
    network: z
      .object({
        /** @default 10.20.0.0/16 */
        vpcCidr: ipv4Cidr.default("10.20.0.0/16"),
        /** Must lie inside `vpcCidr`. @default 10.20.1.0/24 */
        publicSubnetCidr: ipv4Cidr.default("10.20.1.0/24"),
        /** @default - the region's first zone (`<region>a`) */
        availabilityZone: z.string().regex(/^[a-z0-9-]+[a-z]$/, "must be an availability zone such as eu-west-1a").optional(),
      })
      .prefault({}),
    /**
     * Networks allowed to SSH straight to the controller. Leave empty to reach it only through the
     * EC2 Instance Connect Endpoint (recommended). Never 0.0.0.0/0.
     * @default []
     */
    adminCidrs: z.array(adminCidr).default([]),
    /**
     * Networks allowed to reach the controller's HTTP port.
     * @default [] - the port is closed
     */
    apiCidrs: z.array(ipv4Cidr).default([]),
    alerts: z
      .object({
        /** Addresses that receive alert e-mails (SNS subscriptions; each must confirm once). @default [] */
        emails: z.array(z.email("must be an e-mail address")).default([]),
        /**
         * Post alerts to Slack through an incoming webhook. The webhook URL is a secret: put it into
         * the Secrets Manager secret the iot stack creates, never into config.
         * @default false
         */
        slack: z.boolean().default(false),
        /** A device still offline this long after it disconnects raises one alert (SQS delays cap it at 900). @default 300 */
        offlineGraceSeconds: z.number().int().min(0).max(900, "at most 900 seconds (the longest SQS delay)").default(300),
        /** When the daily device check runs (EventBridge schedule expression, UTC). @default cron(0 7 * * ? *) */
        dailyCheckSchedule: z
          .string()
          .regex(/^(cron\((\S+ ){5}\S+\)|rate\(\d+ (minute|minutes|hour|hours|day|days)\))$/, "must be an EventBridge schedule such as cron(0 7 * * ? *) or rate(1 day)")
          .default("cron(0 7 * * ? *)"),
        /** Send the daily summary even when every device is healthy. @default false */
        dailyDigest: z.boolean().default(false),
      })
      .prefault({}),
    github: z.object({
      /**
       * `owner/repo` whose workflows may assume the plan and deploy roles. Repositories created
       * (or renamed) after GitHub's July 2026 switch to immutable subject claims write it with
       * their ids, `owner@123/repo@456`, as the OIDC token's `sub` does.
       */
      repository: z
        .string()
        .regex(/^[A-Za-z0-9-]+(@\d+)?\/[A-Za-z0-9._-]+(@\d+)?$/, "must be a GitHub repository as owner/repo (or owner@id/repo@id)"),
      /** Branch whose pushes may deploy. @default main */
      deployBranch: z.string().regex(/^[A-Za-z0-9._/-]+$/, "must be a branch name").default("main"),
      /**
       * An account holds one GitHub OIDC provider; set this to reuse one that already exists.
       * @default - the roles stack creates it
       */
      existingOidcProviderArn: z
        .string()
        .regex(/^arn:aws[a-z-]*:iam::\d{12}:oidc-provider\/token\.actions\.githubusercontent\.com$/, "must be the ARN of the GitHub OIDC provider")
        .optional(),
    }),
    controller: z
      .object({
        /** @default t4g.nano */
        instanceType: instanceType.default("t4g.nano"),
        /** Tag of the controller image in ECR that a new instance starts; CD deploys newer tags. @default bootstrap */
        imageTag: z
          .string()
          .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, "must be a Docker image tag")
          .refine((tag) => tag !== "latest", "tags are immutable in ECR; use a version or git SHA, never 'latest'")
          .default(BOOTSTRAP_IMAGE_TAG),
        /** TCP port the controller's HTTP API listens on. @default 8080 */
        port: z.number().int().min(1024).max(65535).default(8080),
        /** Root volume size in GiB (gp3, encrypted). @default 10 */
        rootVolumeGiB: z.number().int().min(8).max(100).default(10),
        /** Swap file size in MiB; a t4g.nano has 512 MiB of RAM. @default 1024 */
        swapMiB: z.number().int().min(0).max(8192).default(1024),
      })
      .prefault({}),
    fleet: z
      .object({
        /**
         * Manufacturing batches. Each gets its own claim certificate, so a leaked one exposes one
         * batch. Retire a batch with `active: false`: its claim certificate goes inactive and the
         * hook refuses it.
         * @default [{ name: "batch-1", active: true }]
         */
        batches: z
          .array(
            z
              .object({
                name: z.string().regex(BATCH_PATTERN, "must be lowercase letters, digits and hyphens, e.g. 2026-11-a"),
                active: z.boolean().default(true),
              })
              .strict(),
          )
          .min(1, "list at least one manufacturing batch")
          .refine((batches) => new Set(batches.map((batch) => batch.name)).size === batches.length, "batch names must be unique")
          .default([{ name: "batch-1", active: true }]),
        /**
         * The Ed25519 public key that verifies over-the-air agent releases, as `npm run release:agent`
         * prints it (44 characters of base64; the private key stays in CI's secrets). `pi:image`
         * writes it into every image, and `release:agent` refuses a signing key it does not match,
         * so a release no device would accept is never uploaded.
         * @default - none: an image gets a key only from `--release-public-key`, and agents without one reject every update
         */
        releasePublicKey: z.string().refine(isReleasePublicKeyBase64, RELEASE_PUBLIC_KEY_FORMAT).optional(),
      })
      .prefault({}),
    serialApi: z
      .object({
        /**
         * Whether this environment sets the account's API Gateway CloudWatch role
         * (`aws_api_gateway_account`: one per account and region). When several environments share
         * an account and region, exactly one sets it; the others set false and log through it.
         * @default true
         */
        manageAccountLogging: z.boolean().default(true),
        /** Steady requests per second the usage plan allows. @default 5 */
        rateLimitPerSecond: z.number().positive().max(10000).default(5),
        /** Requests allowed in a burst. @default 10 */
        burstLimit: z.number().int().positive().max(5000).default(10),
        /** Requests per day the API key may make. @default 5000 */
        quotaPerDay: z.number().int().positive().default(5000),
      })
      .prefault({}),
        /** Retention of every log group the project creates. @default 30 */
    logRetentionDays: z
      .number()
      .refine((days) => LOG_RETENTION_DAYS.includes(days), `must be one of CloudWatch's retention values: ${LOG_RETENTION_DAYS.join(", ")}`)
      .default(30),
    /** Extra tags on every resource (Project, Environment, Stack and ManagedBy are always set). @default {} */
    tags: z.record(z.string().regex(/^[\w .:/=+@-]{1,128}$/, "must be a valid tag key"), z.string().max(256)).default({}),
  })
  .strict()
  .superRefine((config, ctx) => {
    const vpc = parseIpv4Cidr(config.network.vpcCidr);
    const subnet = parseIpv4Cidr(config.network.publicSubnetCidr);
    if ("error" in vpc || "error" in subnet) return;
    const inside = subnet.prefix >= vpc.prefix && (subnet.network & vpc.mask) >>> 0 === vpc.network;
    if (!inside) {
      ctx.addIssue({
        code: "custom",
        path: ["network", "publicSubnetCidr"],
        message: `${config.network.publicSubnetCidr} is not inside the VPC ${config.network.vpcCidr}`,
      });
    }
    if (vpc.prefix < 16 || vpc.prefix > 28) {
      ctx.addIssue({ code: "custom", path: ["network", "vpcCidr"], message: "a VPC block must be between /16 and /28" });
    }
    if (config.network.availabilityZone && !config.network.availabilityZone.startsWith(config.region)) {
      ctx.addIssue({
        code: "custom",
        path: ["network", "availabilityZone"],
        message: `${config.network.availabilityZone} is not in region ${config.region}`,
      });
    }
  });

/** What an environment file writes: defaults may be left out. */
export type EnvironmentInput = z.input<typeof environmentSchema>;
/** A validated environment with every default filled in. */
export type EnvironmentConfig = z.output<typeof environmentSchema>;
