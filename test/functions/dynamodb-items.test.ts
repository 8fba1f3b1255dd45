import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import ts from "typescript";

/**
 * #9.7: DynamoDB items are parsed at the table edge with the contracts' zod schemas
 * (contracts/serial-registry.ts serialRecordSchema, contracts/device-table.ts devicePresence), never
 * cast. This reads every TypeScript file under functions/ and finds each `as` cast (and `<T>` assertion)
 * whose expression is a DynamoDB item (`Item`, `Items`, `Attributes`) or whose type is a table record.
 */
const FUNCTIONS = join(__dirname, "..", "..", "functions");
const ITEM_EXPRESSION = /\b(Item|Items|Attributes)\b/;
const RECORD_TYPE = /\b(DeviceRecord|SerialRecord)\b/;

function sourceFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

/** `file:line cast` of every cast of a DynamoDB item in the source. */
function itemCasts(fileName: string, text: string): string[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isAsExpression(node) || ts.isTypeAssertionExpression(node)) {
      if (ITEM_EXPRESSION.test(node.expression.getText(source)) || RECORD_TYPE.test(node.type.getText(source))) {
        found.push(`${fileName}:${source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1} ${node.getText(source)}`);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe("DynamoDB items in functions/", () => {
  it("the check finds the casts it looks for", () => {
    const sample = [
      "const a = Item as SerialRecord | undefined;",
      "const b = (page.Items ?? []) as Thing[];",
      "const c = result.Attributes as Whatever;",
      "const d = <DeviceRecord>value;",
      "const e = error as Error;",
    ].join("\n");
    expect(itemCasts("sample.ts", sample)).toHaveLength(4);
  });

  it("are never cast: every file is read and none casts an item", () => {
    const files = sourceFiles(FUNCTIONS);
    // One per function entry, plus the logic and shared files: fewer means the walk missed some.
    expect(files.length).toBeGreaterThanOrEqual(14);
    expect(files.filter((file) => file.endsWith("index.ts")).length).toBe(readdirSync(FUNCTIONS).filter((name) => name !== "shared").length);
    const casts = files.flatMap((file) => itemCasts(relative(FUNCTIONS, file), readFileSync(file, "utf8")));
    expect(casts).toEqual([]);
  });

  it("nor in the controller, which reads the device table too", () => {
    const controller = join(__dirname, "..", "..", "controller");
    const files = sourceFiles(controller);
    expect(files.some((file) => file.endsWith("devices.ts"))).toBe(true);
    expect(files.flatMap((file) => itemCasts(relative(controller, file), readFileSync(file, "utf8")))).toEqual([]);
  });
});
