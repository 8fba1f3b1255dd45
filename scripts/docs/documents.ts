import type { StackId } from "../../contracts/stack-outputs";
import type { StackJson } from "../../local/synthesized";
import { iamRoleTable, iotPolicyTable, lambdaTable, outputTable, securityGroupTable, topicRuleTable } from "./tables";

type Stacks = Record<StackId, StackJson>;

/** A generated block: a table written between two markers in a reference document. */
export interface GeneratedBlock {
  readonly name: string;
  readonly heading: string;
  render(stacks: Stacks): string;
}

/** A reference document under docs/reference/: hand-written around the markers, generated inside. */
export interface ReferenceDocument {
  readonly file: string;
  readonly title: string;
  readonly intro: string;
  readonly blocks: readonly GeneratedBlock[];
}

export const referenceDocuments: readonly ReferenceDocument[] = [
  {
    file: "docs/reference/network.md",
    title: "Security groups: what is allowlisted and what is not",
    intro: "Every rule of every security group the stacks create, for the `dev` environment.",
    blocks: [{ name: "security-groups", heading: "Rules", render: securityGroupTable }],
  },
  {
    file: "docs/reference/iot.md",
    title: "IoT topics: who may publish and subscribe, and the topic rules",
    intro: "The IoT policies devices and the controller get, statement by statement, and every topic rule.",
    blocks: [
      { name: "iot-policies", heading: "IoT policies", render: iotPolicyTable },
      { name: "topic-rules", heading: "Topic rules", render: topicRuleTable },
    ],
  },
  {
    file: "docs/reference/iam.md",
    title: "IAM roles and their permissions",
    intro: "Every IAM role the stacks create, who may assume it, and what it may do.",
    blocks: [{ name: "iam-roles", heading: "Roles", render: iamRoleTable }],
  },
  {
    file: "docs/reference/lambdas.md",
    title: "Lambda functions",
    intro: "Every Lambda function: what invokes it, its runtime, memory, timeout and log retention.",
    blocks: [{ name: "lambdas", heading: "Functions", render: lambdaTable }],
  },
  {
    file: "docs/reference/outputs.md",
    title: "Stack outputs",
    intro: "What each stack exports for later stacks (S3 remote state) and for workflows (`terraform output`).",
    blocks: [{ name: "stack-outputs", heading: "Outputs", render: outputTable }],
  },
];

const begin = (name: string) => `<!-- generated:begin ${name} (npm run docs writes this table; do not edit it by hand) -->`;
const end = (name: string) => `<!-- generated:end ${name} -->`;

/** A new reference document: title, intro, and one marked block per table. */
export function skeleton(document: ReferenceDocument): string {
  return [
    `# ${document.title}`,
    "",
    `${document.intro} Generated from the synthesized stacks by \`npm run docs\`; CI fails when a table is out of date.`,
    "",
    ...document.blocks.flatMap((block) => [`## ${block.heading}`, "", begin(block.name), end(block.name), ""]),
  ].join("\n");
}

/** Replaces the body between one block's markers; fails if the markers are missing or repeated. */
export function replaceBlock(text: string, file: string, name: string, body: string): string {
  const [open, close] = [begin(name), end(name)];
  const starts = text.split(open).length - 1;
  const ends = text.split(close).length - 1;
  if (starts !== 1 || ends !== 1) throw new Error(`${file}: expected one "${open}" and one "${close}", found ${starts} and ${ends}`);
  const from = text.indexOf(open) + open.length;
  const to = text.indexOf(close);
  if (to < from) throw new Error(`${file}: the end marker of ${name} comes before its begin marker`);
  return `${text.slice(0, from)}\n${body}\n${text.slice(to)}`;
}

/** The content a reference document should have, given what is on disk now (or nothing). */
export function renderDocument(document: ReferenceDocument, current: string | undefined, stacks: Stacks): string {
  return document.blocks.reduce((text, block) => replaceBlock(text, document.file, block.name, block.render(stacks)), current ?? skeleton(document));
}
