/**
 * Issue #8 item 15: the scan's accepted findings stay honest. The scan itself fails on an entry that
 * matches no failed check; this test catches a renamed or removed resource without running checkov,
 * and keeps the generated section of docs/security.md in step with scripts/scan/suppressions.ts.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { renderSkippedSection, SECTION_END, SECTION_START, withSkippedSection } from "../../scripts/scan/docs";
import { resourceSuppressions, skippedChecks } from "../../scripts/scan/suppressions";
import { synthAll } from "../helpers/synth";

const CHECK_ID = /^CKV2?_AWS_\d+$/;

describe("checkov suppressions (item 15)", () => {
  it("every per-resource suppression names a resource that exists in its synthesized stack", () => {
    const stacks = synthAll();
    const missing = resourceSuppressions.filter(({ stack, address }) => {
      const [type, name] = address.split(".");
      return !(type && name && stacks[stack].resource?.[type]?.[name]);
    });
    expect(missing).toEqual([]);
    expect(resourceSuppressions).toHaveLength(8);
  });

  it("every entry has a check id and a reason, and no check id is skipped twice", () => {
    for (const entry of [...skippedChecks, ...resourceSuppressions]) {
      expect(entry.checkId).toMatch(CHECK_ID);
      expect(entry.reason.length).toBeGreaterThan(20);
    }
    expect(new Set(skippedChecks.map((check) => check.checkId)).size).toBe(skippedChecks.length);
    const keys = resourceSuppressions.map(({ stack, address, checkId }) => `${stack}/${address}/${checkId}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(skippedChecks).toHaveLength(19);
  });

  it("docs/security.md holds the generated section as `npm run scan:docs` writes it", () => {
    const doc = readFileSync(join(__dirname, "..", "..", "docs", "security.md"), "utf8");
    const section = renderSkippedSection(skippedChecks, resourceSuppressions);
    expect(doc).toContain(section);
    expect(withSkippedSection(doc, section)).toBe(doc);
    for (const check of skippedChecks) expect(section).toContain(`| ${check.checkId} |`);
    for (const suppression of resourceSuppressions) expect(section).toContain(`\`${suppression.address}\``);
  });

  it("the docs writer replaces the section between its markers, appends it once, and refuses broken markers", () => {
    const section = `${SECTION_START}\nnew\n${SECTION_END}`;
    expect(withSkippedSection(`intro\n${SECTION_START}\nold\n${SECTION_END}\nafter\n`, section)).toBe(`intro\n${section}\nafter\n`);
    expect(withSkippedSection("intro\n\n\n", section)).toBe(`intro\n\n${section}\n`);
    expect(() => withSkippedSection(`intro\n${SECTION_END}\n${SECTION_START}\n`, section)).toThrow(/markers are broken/);
  });
});
