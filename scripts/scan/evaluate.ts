/**
 * The scan's verdict: applies the suppressions to checkov's results and the failure rules.
 *
 * The scan fails on: a stack missing from the results, a stack checkov could not parse, a stack
 * on which no check ran (checkov then exits 0), a failed check that is neither skipped by id nor
 * suppressed for its resource, and a skip or suppression that matches no failed check (stale).
 */
import type { CheckovResults, Finding } from "./checkov-report";
import type { ResourceSuppression, SkippedCheck } from "./suppressions";

export interface StackSummary {
  readonly stack: string;
  readonly passed: number;
  /** Failed checks that are neither skipped by id nor suppressed: each is a finding. */
  readonly failed: number;
  /** Failed checks accepted: skipped by id, suppressed for the resource, or skipped by checkov. */
  readonly skipped: number;
}

export interface Verdict {
  readonly ok: boolean;
  /** In the order of the expected stacks. */
  readonly summaries: readonly StackSummary[];
  /** Failed checks nobody accepted. */
  readonly findings: readonly Finding[];
  /** Everything else that fails the scan, one sentence each. */
  readonly errors: readonly string[];
}

export interface Acceptances {
  readonly skippedChecks: readonly SkippedCheck[];
  readonly resourceSuppressions: readonly ResourceSuppression[];
}

const matches = (suppression: ResourceSuppression, finding: Finding) =>
  suppression.stack === finding.stack && suppression.address === finding.address && suppression.checkId === finding.checkId;

export function evaluate(results: CheckovResults, expectedStacks: readonly string[], accept: Acceptances): Verdict {
  const errors: string[] = [];
  const findings: Finding[] = [];
  const summaries: StackSummary[] = [];
  const skippedIds = new Set(accept.skippedChecks.map((check) => check.checkId));
  const usedSkips = new Set<string>();
  const usedSuppressions = new Set<ResourceSuppression>();

  for (const stack of results.parseErrors) errors.push(`checkov could not parse the ${stack} stack's cdk.tf.json`);
  for (const stack of results.stacks.keys()) {
    if (!expectedStacks.includes(stack)) errors.push(`checkov reported results for an unknown stack "${stack}"`);
  }

  for (const stack of expectedStacks) {
    const stackResults = results.stacks.get(stack);
    if (!stackResults || stackResults.passed + stackResults.failed.length + stackResults.skippedByCheckov === 0) {
      if (!results.parseErrors.includes(stack)) errors.push(`no checkov check ran on the ${stack} stack`);
      summaries.push({ stack, passed: 0, failed: 0, skipped: 0 });
      continue;
    }
    let skipped = stackResults.skippedByCheckov;
    let failed = 0;
    for (const finding of stackResults.failed) {
      const suppression = accept.resourceSuppressions.find((candidate) => matches(candidate, finding));
      if (suppression) usedSuppressions.add(suppression);
      if (skippedIds.has(finding.checkId)) usedSkips.add(finding.checkId);
      if (suppression || skippedIds.has(finding.checkId)) {
        skipped += 1;
      } else {
        failed += 1;
        findings.push(finding);
      }
    }
    summaries.push({ stack, passed: stackResults.passed, failed, skipped });
  }

  for (const check of accept.skippedChecks) {
    if (!usedSkips.has(check.checkId)) errors.push(`stale skip: ${check.checkId} (${check.title}) fails on no resource; remove it from scripts/scan/suppressions.ts`);
  }
  for (const suppression of accept.resourceSuppressions) {
    if (skippedIds.has(suppression.checkId)) {
      errors.push(`suppression of ${suppression.checkId} on ${suppression.stack}/${suppression.address} is redundant: the check is skipped by id`);
    } else if (!usedSuppressions.has(suppression)) {
      errors.push(`stale suppression: ${suppression.checkId} on ${suppression.stack}/${suppression.address} matches no failed check; remove it from scripts/scan/suppressions.ts`);
    }
  }
  return { ok: errors.length === 0 && findings.length === 0, summaries, findings, errors };
}

/** The lines `npm run scan` prints: one per stack, the findings and errors, then a closing line. */
export function formatVerdict(verdict: Verdict): string[] {
  const lines = verdict.summaries.map(
    (summary) => `${summary.stack}: ${summary.passed} passed, ${summary.failed} failed, ${summary.skipped} skipped`,
  );
  for (const finding of verdict.findings) {
    lines.push(`FAILED ${finding.checkId} ${finding.stack}/${finding.address}: ${finding.checkName}`);
  }
  for (const error of verdict.errors) lines.push(`ERROR ${error}`);
  const total = (key: "passed" | "failed" | "skipped") => verdict.summaries.reduce((sum, summary) => sum + summary[key], 0);
  const counts = `${total("passed")} passed, ${total("failed")} failed, ${total("skipped")} skipped over ${verdict.summaries.length} stacks`;
  lines.push(
    verdict.ok
      ? `checkov scan passed: ${counts}`
      : `checkov scan FAILED: ${verdict.findings.length} finding(s), ${verdict.errors.length} error(s); ${counts}`,
  );
  return lines;
}
