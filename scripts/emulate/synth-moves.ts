/**
 * The synthesized half of `npm run emulate:moves`, for every stack including those moto cannot
 * hold: with the `moved` blocks applied (and data sources matched by identical arguments, since they
 * hold no state), each resource of the old synthesized stack must have the same arguments as its new
 * address. A Lambda whose only difference is its bundle (`source_code_hash`, and the asset path in
 * `filename`) is a code update in place, listed apart.
 */
import { isDeepStrictEqual } from "node:util";
import { withoutMetadata } from "../lib/synthesized-json";

type Blocks = Record<string, Record<string, Record<string, unknown>>>;
export interface SynthesizedStack {
  readonly resource?: Blocks;
  readonly data?: Blocks;
  readonly output?: Record<string, unknown>;
  readonly moved?: readonly { readonly from: string; readonly to: string }[];
}

export interface SynthComparison {
  readonly moved: number;
  /** `type.id` of Lambdas whose bundle changed, and nothing else. */
  readonly codeUpdates: string[];
  /** Any other difference: a finding. */
  readonly differences: string[];
}

const BUNDLE_ATTRIBUTES = new Set(["source_code_hash", "filename"]);

type Sections = { resource: Blocks; data: Blocks; output: Record<string, unknown> };

/** The parts of a stack that reach Terraform's plan, without cdktf's metadata. */
function sections(stack: SynthesizedStack): Sections {
  return withoutMetadata({ resource: stack.resource ?? {}, data: stack.data ?? {}, output: stack.output ?? {} }) as Sections;
}

/** Rewrites every reference to `from` (an address, or `data.<address>`) in a JSON text. */
function renameReferences(text: string, from: string, to: string): string {
  return text.replace(new RegExp(`${from.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?=[.}"\\],\\s])`, "g"), to);
}

/** `aws_x.id` or `data.aws_x.id` → where it sits in the synthesized JSON. */
function splitAddress(address: string): { section: "resource" | "data"; type: string; id: string } {
  const section = address.startsWith("data.") ? "data" : "resource";
  const rest = section === "data" ? address.slice("data.".length) : address;
  const dot = rest.indexOf(".");
  return { section, type: rest.slice(0, dot), id: rest.slice(dot + 1) };
}

export function compareAfterMoves(before: SynthesizedStack, after: SynthesizedStack): SynthComparison {
  const was = sections(before);
  const now = sections(after);
  const renames = (after.moved ?? []).map(({ from, to }) => ({ from, to: to.replace(/^\$\{|\}$/g, "") }));
  for (const [type, byId] of Object.entries(was.data)) {
    const afterIds = now.data[type] ?? {};
    for (const [id, args] of Object.entries(byId)) {
      if (id in afterIds) continue;
      const candidates = Object.entries(afterIds).filter(([newId, newArgs]) => !(newId in byId) && isDeepStrictEqual(newArgs, args));
      if (candidates.length === 1) renames.push({ from: `data.${type}.${id}`, to: `data.${type}.${candidates[0]![0]}` });
    }
  }
  let text = JSON.stringify(was);
  for (const { from, to } of [...renames].sort((a, b) => b.from.length - a.from.length)) text = renameReferences(text, from, to);
  const renamed = JSON.parse(text) as Sections;
  for (const { from, to } of renames) {
    const source = splitAddress(from);
    const target = splitAddress(to);
    const blocks = renamed[source.section][source.type];
    if (blocks && source.id in blocks) {
      (renamed[target.section][target.type] ??= {})[target.id] = blocks[source.id]!;
      delete blocks[source.id];
    }
  }

  const codeUpdates: string[] = [];
  const differences: string[] = [];
  for (const section of ["resource", "data"] as const) {
    const types = new Set([...Object.keys(renamed[section]), ...Object.keys(now[section])]);
    for (const type of types) {
      const old = renamed[section][type] ?? {};
      const current = now[section][type] ?? {};
      for (const id of new Set([...Object.keys(old), ...Object.keys(current)])) {
        const address = `${section === "data" ? "data." : ""}${type}.${id}`;
        if (!(id in current)) differences.push(`${address}: gone`);
        else if (!(id in old)) differences.push(`${address}: new`);
        else {
          const changed = [...new Set([...Object.keys(old[id]!), ...Object.keys(current[id]!)])].filter((key) => !isDeepStrictEqual(old[id]![key], current[id]![key]));
          if (changed.length === 0) continue;
          if (type === "aws_lambda_function" && changed.every((key) => BUNDLE_ATTRIBUTES.has(key))) {
            if (changed.includes("source_code_hash")) codeUpdates.push(address);
          } else differences.push(`${address}: ${changed.join(", ")} changed`);
        }
      }
    }
  }
  if (!isDeepStrictEqual(renamed.output, now.output)) differences.push("outputs changed");
  return { moved: after.moved?.length ?? 0, codeUpdates, differences };
}
