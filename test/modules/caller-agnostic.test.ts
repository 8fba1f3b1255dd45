import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

/**
 * Issue #9 item 4: a construct under modules/ knows nothing of its caller, like a
 * terraform-aws-modules module: no app config, no naming contract, no stack-output contract (the
 * app-level base stack is stacks/project-stack.ts), no words about who calls it.
 */
function files(directory: string): string[] {
  return readdirSync(directory).flatMap((name) => {
    const path = join(directory, name);
    return statSync(path).isDirectory() ? files(path) : name.endsWith(".ts") ? [path] : [];
  });
}

it("no module imports config/, contracts/names or contracts/stack-outputs, or speaks of CI or serials", () => {
  const modules = files(join(__dirname, "..", "..", "modules"));
  expect(modules.length).toBeGreaterThan(15);
  const findings = modules.flatMap((file) => {
    const text = readFileSync(file, "utf8");
    const imports = [...text.matchAll(/from "([^"]+)"/g)].map((match) => match[1]!);
    const forbidden = imports.filter((path) => /(^|\/)config(\/|$)|contracts\/(names|stack-outputs)$/.test(path));
    const words = /\bCI\b|serials?\b/.test(text.replace(/^\s*\/\/.*$/gm, "")) ? ["mentions CI or serials"] : [];
    return [...forbidden, ...words].map((finding) => `${file}: ${finding}`);
  });
  expect(findings).toEqual([]);
});
