import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { synthAll, type StackJson } from "../helpers/synth";

/**
 * Construct ids are a public contract: a resource's Terraform address comes from its construct path,
 * and a new address for the same resource makes Terraform destroy it and create another (a new
 * device table, a new CA-signed controller certificate…). This holds every address the stacks had
 * when the file below was last reviewed. A refactoring keeps them, or moves each one with a `moved`
 * block (cdktf's `resource.moveFromId(oldAddress)`). Adding or removing a resource on purpose:
 * `UPDATE_ADDRESSES=1 npx jest test/stacks/addresses.test.ts`, and say why in the commit.
 */
const snapshotPath = join(__dirname, "resource-addresses.json");

function addresses(stack: StackJson): string[] {
  return Object.entries(stack.resource ?? {}).flatMap(([type, byId]) => Object.keys(byId).map((id) => `${type}.${id}`)).sort();
}

function movedBlocks(stack: StackJson & { moved?: { from: string; to: string }[] }): { from: string; to: string }[] {
  return (stack.moved ?? []).map(({ from, to }) => ({ from, to: to.replace(/^\$\{|\}$/g, "") }));
}

describe("resource addresses", () => {
  const stacks = synthAll();
  const current = Object.fromEntries(Object.entries(stacks).map(([id, stack]) => [id, addresses(stack)]));

  if (process.env.UPDATE_ADDRESSES === "1") writeFileSync(snapshotPath, `${JSON.stringify(current, null, 2)}\n`);
  const reviewed = JSON.parse(readFileSync(snapshotPath, "utf8")) as Record<string, string[]>;

  test("every stack is in the reviewed list", () => {
    expect(Object.keys(current).sort()).toEqual(Object.keys(reviewed).sort());
    expect(Object.keys(current)).toHaveLength(9);
  });

  test.each(Object.keys(reviewed))("%s: every reviewed address still exists or is moved to one that does", (stackId) => {
    const now = new Set(current[stackId]);
    const moved = movedBlocks(stacks[stackId as keyof typeof stacks]);
    const lost = reviewed[stackId]!.filter((address) => !now.has(address) && !moved.some((move) => move.from === address && now.has(move.to)));
    expect(lost).toEqual([]);
    expect(reviewed[stackId]!.length).toBeGreaterThan(0);
  });

  test.each(Object.keys(reviewed))("%s: every address is reviewed or the target of a move", (stackId) => {
    const known = new Set([...reviewed[stackId]!, ...movedBlocks(stacks[stackId as keyof typeof stacks]).map((move) => move.to)]);
    expect(current[stackId]!.filter((address) => !known.has(address))).toEqual([]);
  });
});
