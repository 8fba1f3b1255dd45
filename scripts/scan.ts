/**
 * npm run scan: checkov over every synthesized stack (framework terraform_json).
 *
 * Synthesizes (or reuses a fresh cdktf.out), copies each stack's cdk.tf.json into a scratch folder
 * with checkov's parser crash worked around (see scripts/scan/scratch.ts), runs the pinned checkov
 * once over all of them, and judges the result with scripts/scan/evaluate.ts against
 * scripts/scan/suppressions.ts. Prints one line per stack and a closing line; exits 1 on any
 * finding, parsing error, stack without checks or stale suppression.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { stackIds } from "../contracts/stack-outputs";
import { CheckovOutputError, parseCheckovOutput } from "./scan/checkov-report";
import { ensureCheckov, runCheckov } from "./scan/checkov";
import { evaluate, formatVerdict } from "./scan/evaluate";
import { prepareScratchCopy } from "./scan/scratch";
import { resourceSuppressions, skippedChecks } from "./scan/suppressions";
import { synthesizedStacks } from "./scan/synth";

const REPO_ROOT = resolve(__dirname, "..");
const log = (line: string) => console.log(line);

async function main(): Promise<number> {
    const checkov = await ensureCheckov(log);
  const { stacksDir, stacks } = synthesizedStacks(REPO_ROOT, log);
  const scratch = mkdtempSync(join(tmpdir(), "smart-home-scan-"));
  try {
    const { prepared, types } = prepareScratchCopy(stacksDir, stacks, scratch);
    const removed = [...new Set(prepared.flatMap((stack) => stack.removed))];
    if (removed.length > 0) log(`scratch copy without terraform.${removed.join(", terraform.")} (bridgecrewio/checkov#7454)`);

    const output = runCheckov(checkov, scratch);
    let results;
    try {
      results = parseCheckovOutput(output.stdout, types);
    } catch (error) {
      if (!(error instanceof CheckovOutputError)) throw error;
      log(output.stderr.trim().split("\n").slice(-30).join("\n"));
      log(`checkov scan FAILED: ${error.message} (checkov exit ${output.status})`);
      return 1;
    }
    if (results.parseErrors.length > 0) log(output.stderr.trim().split("\n").slice(-30).join("\n"));
    const verdict = evaluate(results, stackIds, { skippedChecks, resourceSuppressions });
    for (const line of formatVerdict(verdict)) log(line);
    return verdict.ok ? 0 : 1;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    console.log("checkov scan FAILED: the scan itself failed (see above)");
    process.exit(1);
  },
);
