import type { StackId } from "../../contracts/stack-outputs";
import type { StackJson } from "../../local/synthesized";

/** Every resource of one type across the stacks, with the stack it is in. */
export function resourcesOf(stacks: Record<StackId, StackJson>, type: string): { stack: StackId; id: string; resource: any }[] {
  return Object.entries(stacks).flatMap(([stack, json]) =>
    Object.entries(json.resource?.[type] ?? {}).map(([id, resource]) => ({ stack: stack as StackId, id, resource })),
  );
}

/**
 * A Terraform expression as a reader wants it: partition and account ids as words, other stacks'
 * outputs by name, and references to resources by the name they will have.
 */
export function readable(text: string, stack: StackId, stacks: Record<StackId, StackJson>): string {
  return String(text)
    .replace(/\$\{data\.aws_partition\.[\w-]+\.partition\}/g, "aws")
    .replace(/\$\{data\.aws_caller_identity\.[\w-]+\.account_id\}/g, "{account}")
    .replace(/\$\{data\.terraform_remote_state\.remote-state-([\w-]+)\.outputs\.(\w+)\}/g, (_match, producer: string, output: string) => {
      const value = stacks[producer as StackId]?.output?.[output]?.value;
      return value === undefined ? `(${producer} output ${output})` : readable(value, producer as StackId, stacks);
    })
    .replace(/\$\{(aws_[a-z0-9_]+)\.([\w-]+)\.(\w+)\}/g, (match, type: string, id: string, attribute: string) => {
      const resource = stacks[stack]?.resource?.[type]?.[id];
      const name = resource?.name ?? resource?.function_name ?? resource?.bucket;
      if (!name) return match;
      return ["name", "arn", "id", "function_name"].includes(attribute) ? String(name) : `${name} (${attribute.replace(/_/g, " ")})`;
    })
    .replace(/\$\$\{/g, "${");
}

/** The part of an IoT ARN after the account: `topic/…`, `topicfilter/…`, `client/…`. */
export function iotResource(arn: string): string {
  return arn.replace(/^arn:aws:iot:[^:]+:[^:]+:/, "");
}

const cell = (value: string) => value.replace(/\|/g, "\\|").replace(/\n/g, " ");

/** A Markdown table; rows are sorted by the caller. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return [`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`, ...rows.map((row) => `| ${row.map(cell).join(" | ")} |`)].join("\n");
}

export const code = (value: string) => (value ? `\`${value}\`` : "");
