import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { compareDocuments, documentedStacks } from "../scripts/docs";
import { referenceDocuments, renderDocument, replaceBlock } from "../scripts/docs/documents";

const root = join(__dirname, "..");

describe("generated docs (npm run docs)", () => {
  const stacks = documentedStacks();

  it("every table in docs/reference/ matches the synthesized stacks", () => {
    const results = compareDocuments(stacks);
    expect(results.map((result) => result.file)).toEqual(referenceDocuments.map((document) => document.file));
    const stale = results.filter((result) => result.current !== result.expected).map((result) => `${result.file} is out of date: run npm run docs`);
    expect(stale).toEqual([]);
  });

  it("each table has a row for every resource it restates", () => {
    const count = (type: string) => Object.values(stacks).reduce((sum, stack) => sum + Object.keys(stack.resource?.[type] ?? {}).length, 0);
    const rows = (file: string, block: string) => {
      const text = readFileSync(join(root, file), "utf8");
      const body = text.slice(text.indexOf(`generated:begin ${block} `), text.indexOf(`generated:end ${block} `));
      return body.split("\n").filter((line) => line.startsWith("| ") && !line.startsWith("| stack |") && !/^\| (IoT policy|rule) \|/.test(line)).length;
    };
    expect(count("aws_iam_role")).toBeGreaterThan(5);
    expect(rows("docs/reference/iam.md", "iam-roles")).toBe(count("aws_iam_role"));
    expect(rows("docs/reference/lambdas.md", "lambdas")).toBe(count("aws_lambda_function"));
    expect(rows("docs/reference/iot.md", "topic-rules")).toBe(count("aws_iot_topic_rule"));
    expect(rows("docs/reference/network.md", "security-groups")).toBe(
      count("aws_vpc_security_group_ingress_rule") + count("aws_vpc_security_group_egress_rule") + count("aws_default_security_group"),
    );
    const outputs = Object.values(stacks).reduce((sum, stack) => sum + Object.keys(stack.output ?? {}).filter((name) => !name.startsWith("cross-stack-output-")).length, 0);
    expect(rows("docs/reference/outputs.md", "stack-outputs")).toBe(outputs);
  });

  it("a hand edit inside a table is found, and rendering puts the generated table back", () => {
    const document = referenceDocuments.find((candidate) => candidate.file === "docs/reference/network.md")!;
    const onDisk = readFileSync(join(root, document.file), "utf8");
    const edited = onDisk.replace("tcp 8883", "tcp 1883");
    expect(edited).not.toBe(onDisk);
    expect(renderDocument(document, edited, stacks)).toBe(onDisk);
  });

  it("refuses a document whose markers are missing or repeated, and changes nothing", () => {
    expect(() => replaceBlock("# no markers\n", "docs/x.md", "lambdas", "table")).toThrow('docs/x.md: expected one "<!-- generated:begin lambdas');
  });

  it("every relative link in docs/README.md and docs/reference/ points at a file that exists", () => {
    const files = ["docs/README.md", ...referenceDocuments.map((document) => document.file)];
    const links = files.flatMap((file) =>
      [...readFileSync(join(root, file), "utf8").matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)]
        .map((match) => match[1]!)
        .filter((target) => !/^[a-z]+:/.test(target))
        .map((target) => ({ file, target, path: join(root, dirname(file), target) })),
    );
    expect(links.length).toBeGreaterThan(20);
    expect(links.filter((link) => !existsSync(link.path)).map((link) => `${link.file} → ${link.target}`)).toEqual([]);
  });
});
