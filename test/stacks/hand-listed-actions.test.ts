import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Issue #9 item 3: DynamoDB access is granted through a table's grant methods (a ProjectTable, or a
 * TableReference of another stack's outputs), so no stack lists DynamoDB actions itself.
 */
it("no stack hand-lists DynamoDB actions (grants live on the table types in modules/project-table.ts)", () => {
  const directory = join(__dirname, "..", "..", "stacks");
  // terraform-access.ts is Terraform's own permission to manage tables (CreateTable …), not data access.
  const files = readdirSync(directory).filter((name) => name.endsWith(".ts") && name !== "terraform-access.ts");
  expect(files.length).toBeGreaterThan(10);
  const offenders = files.filter((name) => {
    const text = readFileSync(join(directory, name), "utf8");
    return /actions:\s*\[[^\]]*"dynamodb:/.test(text);
  });
  expect(offenders).toEqual([]);
});
