/** npm run scan:docs: rewrites the generated "Skipped checkov checks" section of docs/security.md. */
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { renderSkippedSection, withSkippedSection } from "./docs";
import { resourceSuppressions, skippedChecks } from "./suppressions";

const file = join(resolve(__dirname, "..", ".."), "docs", "security.md");
const updated = withSkippedSection(readFileSync(file, "utf8"), renderSkippedSection(skippedChecks, resourceSuppressions));
writeFileSync(`${file}.tmp`, updated);
renameSync(`${file}.tmp`, file);
console.log(`wrote the skipped checkov checks to ${file}`);
