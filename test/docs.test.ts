import { readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { environmentSchema } from "../config/schema";
import { stackOutputs } from "../contracts/stack-outputs";

const read = (file: string) => readFileSync(join(__dirname, "..", file), "utf8");

/** Dotted paths of every field of an object schema, descending into nested objects. */
function fieldPaths(schema: z.ZodType, prefix = ""): string[] {
  let inner: any = schema;
  while (inner?.def && ["default", "prefault", "optional", "pipe"].includes(inner.def.type)) inner = inner.def.innerType ?? inner.def.in;
  if (inner?.def?.type !== "object") return [prefix];
  return Object.entries(inner.def.shape as Record<string, z.ZodType>).flatMap(([key, value]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    const nested = fieldPaths(value, path);
    return nested.length === 1 && nested[0] === path ? [path] : nested;
  });
}

describe("docs follow the code", () => {
  it("docs/configuration.md lists every config field", () => {
    const reference = read("docs/configuration.md");
    const fields = fieldPaths(environmentSchema);
    expect(fields).toContain("controller.instanceType");
    expect(fields.filter((field) => !reference.includes(`\`${field}\``))).toEqual([]);
  });

  it("the README lists every stack output", () => {
    const readme = read("README.md");
    const names = Object.values(stackOutputs).flatMap((outputs) => Object.keys(outputs));
    expect(names.filter((name) => !readme.includes(`\`${name}\``))).toEqual([]);
  });

  it("the README gives the fresh-machine commands", () => {
    const readme = read("README.md");
    for (const command of ["npm ci", "npm test", "npx cdktf synth", "aws ec2-instance-connect ssh --connection-type eice"]) {
      expect(readme).toContain(command);
    }
  });
});
