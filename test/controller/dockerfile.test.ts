import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildController, CRT_BINARY, IMAGE_CRT_PLATFORM } from "../../controller/build";

/**
 * No container engine runs on these machines, so the image is checked by its rules: the
 * Dockerfile's stages and instructions, the build context .dockerignore lets through, and the
 * build stage's own step (controller/build.ts) run here for linux-arm64.
 */
const ROOT = join(__dirname, "..", "..");
const dockerfile = readFileSync(join(ROOT, "controller", "Dockerfile"), "utf8");
const ignore = readFileSync(join(ROOT, ".dockerignore"), "utf8");

/** Instructions with continuation lines joined, comments dropped. */
const instructions = dockerfile
  .replace(/\\\n/g, " ")
  .split("\n")
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith("#"))
  .map((line) => {
    const [keyword, ...rest] = line.split(/\s+/);
    return { keyword: keyword!.toUpperCase(), args: rest.join(" ") };
  });
const stages: { from: string; body: typeof instructions }[] = [];
for (const instruction of instructions) {
  if (instruction.keyword === "FROM") stages.push({ from: instruction.args, body: [] });
  else stages.at(-1)?.body.push(instruction);
}
const runtime = stages.at(-1)!;
const build = stages[0]!;

describe("controller/Dockerfile", () => {
  it("is multi-stage: a build stage on the builder's platform, a runtime stage for the target (linux/arm64)", () => {
    expect(stages).toHaveLength(2);
    expect(build.from).toMatch(/^--platform=\$BUILDPLATFORM \S+ AS build$/);
    // No --platform on the runtime stage: it is whatever `--platform linux/arm64` asks for.
    expect(runtime.from).not.toContain("--platform");
  });

  it("pins every base image by exact version or digest", () => {
    for (const stage of stages) {
      const image = stage.from.replace(/^--platform=\S+ /, "").split(" ")[0]!;
      expect(image).toMatch(/^node:22\.\d+\.\d+-[a-z]+-slim(@sha256:[0-9a-f]{64})?$|@sha256:[0-9a-f]{64}$/);
    }
    expect(stages).toHaveLength(2);
  });

  it("bundles for the arm64 aws-crt binary, and the runtime stage copies only the bundle", () => {
    expect(build.body.filter((i) => i.keyword === "RUN").map((i) => i.args)).toContain(`npx tsx controller/build.ts /out ${IMAGE_CRT_PLATFORM}`);
    expect(IMAGE_CRT_PLATFORM).toBe("linux-arm64-glibc");
    const copies = runtime.body.filter((i) => i.keyword === "COPY");
    expect(copies.map((i) => i.args)).toEqual(["--from=build --chown=root:root /out/ /app/"]);
  });

  it("runs as a non-root user, with no package tooling or compilers in the final stage", () => {
    const users = runtime.body.filter((i) => i.keyword === "USER").map((i) => i.args);
    expect(users).toHaveLength(1);
    expect(users[0]).not.toMatch(/^(root|0)(:|$)/);
    const removal = runtime.body.find((i) => i.keyword === "RUN")!.args;
    for (const tool of ["/usr/local/lib/node_modules", "/usr/local/bin/npm", "/usr/local/bin/npx", "/usr/local/bin/corepack", "/usr/local/bin/yarn"]) expect(removal).toContain(tool);
    expect(runtime.body.filter((i) => i.keyword === "RUN" && /apt-get|apk|npm (ci|install)|gcc|make/.test(i.args))).toEqual([]);
  });

  it("has a HEALTHCHECK on /healthz (healthcheck.js) and an exec-form CMD so SIGTERM reaches node", () => {
    const [healthcheck] = runtime.body.filter((i) => i.keyword === "HEALTHCHECK");
    expect(healthcheck!.args).toMatch(/CMD \["node", "\/app\/healthcheck\.js"\]$/);
    expect(readFileSync(join(ROOT, "controller", "healthcheck.ts"), "utf8")).toContain("/healthz");
    const [cmd] = runtime.body.filter((i) => i.keyword === "CMD");
    expect(JSON.parse(cmd!.args)).toEqual(["node", "--max-old-space-size=96", "/app/controller.js"]);
  });

  it(".dockerignore keeps the context to what the build stage copies", () => {
    const lines = ignore.split("\n").filter((line) => line && !line.startsWith("#"));
    expect(lines[0]).toBe("*");
    const copied = build.body.filter((i) => i.keyword === "COPY").flatMap((i) => i.args.split(" ").slice(0, -1));
    expect(copied).toEqual(["package.json", "package-lock.json", "tsconfig.json", "contracts", "controller"]);
    for (const source of copied) expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^!${source.replace(".", "\\.")}/?$`)));
  });
});

describe("the build stage's bundle (controller/build.ts for linux-arm64)", () => {
  const out = mkdtempSync(join(tmpdir(), "controller-image-"));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it("needs nothing from the repo outside the context, and carries the arm64 aws-crt binary", async () => {
    const inputs = await buildController(out);
    expect(inputs.length).toBeGreaterThan(10);
    const outside = inputs.filter((input) => !/^(contracts|controller|node_modules)\//.test(input));
    expect(outside).toEqual([]);
    expect(inputs.some((input) => input.startsWith("controller/deploy/"))).toBe(false);
    const binary = readFileSync(join(out, CRT_BINARY));
    // ELF, 64-bit, machine 0xB7 = AArch64.
    expect(binary.subarray(0, 4).toString("latin1")).toBe("\x7fELF");
    expect(binary.readUInt16LE(18)).toBe(0xb7);
    expect(statSync(join(out, "controller.js")).size).toBeLessThan(2_000_000);
  }, 60_000);
});
