import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const root = join(__dirname, "..");
const barrel = /(?:from\s+|require\(\s*|import\(\s*)["']@cdktf\/provider-aws(?:\/lib)?\/?["']/;

/** Files git tracks or would track (untracked, not ignored). */
function sourceFiles(): string[] {
  const listed = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "*.ts", "*.js", "*.mjs", "*.cjs"], { cwd: root, encoding: "utf8" });
  return listed.split("\n").filter(Boolean);
}

describe("imports of @cdktf/provider-aws", () => {
  it("no source file imports the package root (or lib/ barrel): deep imports only", () => {
    const offenders = sourceFiles().filter((file) => barrel.test(readFileSync(join(root, file), "utf8")));
    expect(offenders).toEqual([]);
  });

  it("the check itself recognises a root import", () => {
    const packageName = ["@cdktf", "provider-aws"].join("/");
    expect(barrel.test(`import { vpc } from "${packageName}";`)).toBe(true);
    expect(barrel.test(`const aws = require('${packageName}/lib');`)).toBe(true);
    expect(barrel.test(`import { Vpc } from "@cdktf/provider-aws/lib/vpc";`)).toBe(false);
  });
});

describe("one source of truth for topics", () => {
  it("no file outside contracts/ and test/ spells an MQTT topic of the platform", () => {
    const topicLiteral = /["'`][^"'`\n]*(\/devices\/|\$aws\/events\/presence)[^"'`\n]*["'`]/;
    const offenders = sourceFiles()
      .filter((file) => !file.startsWith("contracts/") && !file.startsWith("test/") && !file.startsWith("bench/"))
      .filter((file) => topicLiteral.test(readFileSync(join(root, file), "utf8")));
    expect(offenders).toEqual([]);
  });
});
