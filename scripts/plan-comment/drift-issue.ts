/**
 * The nightly drift report (drift.yml): one open issue listing the stacks whose real resources
 * differ from main, updated in place each night, and closed with a comment once nothing drifts.
 *
 *   tsx scripts/plan-comment/drift-issue.ts --repo owner/name --results drift --expected '["vpc",…]' [--run-url URL]
 *
 * `--results` holds one folder per stack, `drift-<stack>/`, written by the plan job: `exitcode`
 * (terraform plan -detailed-exitcode: 0 clean, 1 error, 2 changes), plus `plan.json` on 2 and
 * `error.txt` on 1. A stack in --expected without a folder counts as not checked.
 * GITHUB_TOKEN (issues: write) and GITHUB_API_URL reach the REST API.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { COMMENT_LIMIT, summarize, type PlanJson } from "../plan-comment";

/** The label the drift issue gets, for people to filter by (the marker is what finds it again). */
export const DRIFT_LABEL = "drift";
const MARKER = "<!-- smart-home-drift -->";
const AUTHOR = "github-actions[bot]";
const ADDRESSES_PER_STACK = 30;

export type StackResult =
  | { readonly stack: string; readonly status: "clean" }
  | { readonly stack: string; readonly status: "drifted"; readonly plan: PlanJson }
  | { readonly stack: string; readonly status: "error"; readonly error: string };

/** What the plan job left for each expected stack. */
export function readResults(folder: string, expected: readonly string[]): StackResult[] {
  return expected.map((stack): StackResult => {
    const dir = join(folder, `drift-${stack}`);
    const read = (name: string) => readFileSync(join(dir, name), "utf8");
    const code = existsSync(join(dir, "exitcode")) ? read("exitcode").trim() : undefined;
    if (code === "0") return { stack, status: "clean" };
    if (code === "2" && existsSync(join(dir, "plan.json"))) return { stack, status: "drifted", plan: JSON.parse(read("plan.json")) as PlanJson };
    if (code === "1" && existsSync(join(dir, "error.txt"))) return { stack, status: "error", error: read("error.txt") };
    return { stack, status: "error", error: code === undefined ? "the plan job left no result (cancelled, timed out, or failed before terraform ran)" : `unexpected result: exit code ${code}` };
  });
}

/** The issue body, or undefined when every stack is clean. */
export function renderDriftIssue(results: readonly StackResult[], runUrl?: string): string | undefined {
  const drifted = results.filter((result) => result.status === "drifted");
  const failed = results.filter((result) => result.status === "error");
  if (drifted.length === 0 && failed.length === 0) return undefined;
  const lines = [
    MARKER,
    `Nightly \`terraform plan -detailed-exitcode\` of every stack with remote state${runUrl ? ` ([run](${runUrl}))` : ""}: ` +
      `**${drifted.length} drifted**, ${failed.length} could not be planned, ${results.length - drifted.length - failed.length} clean.`,
    "",
    "Drift is a difference between main and what runs in AWS: a change made outside Terraform, or a merge whose deploy did not finish. Apply main again (re-run cd.yml) or bring the change into code.",
    "",
  ];
  for (const result of drifted) {
    const { addresses } = summarize(result.plan);
    const all = (["create", "update", "replace", "delete"] as const).flatMap((action) => addresses[action].map((address) => `\`${address}\` (${action})`));
    lines.push(`### \`${result.stack}\`: ${all.length} resource${all.length === 1 ? "" : "s"} differ`, "");
    lines.push(...all.slice(0, ADDRESSES_PER_STACK).map((entry) => `- ${entry}`));
    if (all.length > ADDRESSES_PER_STACK) lines.push(`- … and ${all.length - ADDRESSES_PER_STACK} more (the run's \`drift-${result.stack}\` artifact has the plan)`);
    if (all.length === 0) lines.push("- outputs only");
    lines.push("");
  }
  for (const result of failed) {
    const tail = result.error.trim().split("\n").slice(-15).join("\n");
    const fence = "`".repeat(Math.max(3, ...[...tail.matchAll(/`+/g)].map((run) => run[0].length + 1)));
    lines.push(`### \`${result.stack}\`: could not be planned`, "", `${fence}text`, tail, fence, "");
  }
  const body = lines.join("\n");
  return body.length <= COMMENT_LIMIT ? body : `${body.slice(0, COMMENT_LIMIT - 80)}\n\n_Cut to GitHub's ${COMMENT_LIMIT}-character limit._\n`;
}

interface Issue {
  readonly number: number;
  readonly body?: string | null;
  readonly user?: { readonly login?: string };
  readonly pull_request?: unknown;
}

/** The REST calls the report needs. */
export interface IssueApi {
  /** Open issues this workflow's bot opened. */
  openIssues(): Promise<Issue[]>;
  createIssue(title: string, body: string, label: string): Promise<number>;
  updateIssue(number: number, body: string): Promise<void>;
  closeIssue(number: number, comment: string): Promise<void>;
}

/** Opens, updates or closes the one drift issue; returns what it did. */
export async function reportDrift(api: IssueApi, body: string | undefined, title: string): Promise<string> {
  const existing = (await api.openIssues()).find((issue) => !issue.pull_request && issue.user?.login === AUTHOR && issue.body?.startsWith(MARKER));
  if (body === undefined) {
    if (!existing) return "no drift, no open issue";
    await api.closeIssue(existing.number, "No drift in tonight's plan of every stack: closing.");
    return `no drift, closed #${existing.number}`;
  }
  if (!existing) return `opened #${await api.createIssue(title, body, DRIFT_LABEL)}`;
  if (existing.body !== body) await api.updateIssue(existing.number, body);
  return `updated #${existing.number}`;
}

/** IssueApi over GitHub's REST API. */
export function githubIssues(apiUrl: string, token: string, repo: string): IssueApi {
  const call = async (method: string, path: string, body?: unknown): Promise<any> => {
    const response = await fetch(`${apiUrl}/repos/${repo}${path}`, {
      method,
      headers: {
        accept: "application/vnd.github+json",
        authorization: `Bearer ${token}`,
        "x-github-api-version": "2022-11-28",
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
    return response.json();
  };
  return {
    openIssues: () => call("GET", `/issues?state=open&creator=${encodeURIComponent(AUTHOR)}&per_page=100`),
    createIssue: async (title, body, label) => ((await call("POST", "/issues", { title, body, labels: [label] })) as Issue).number,
    updateIssue: async (number, body) => void (await call("PATCH", `/issues/${number}`, { body })),
    closeIssue: async (number, comment) => {
      await call("POST", `/issues/${number}/comments`, { body: comment });
      await call("PATCH", `/issues/${number}`, { state: "closed", state_reason: "completed" });
    },
  };
}

export async function main(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const value = (flag: string) => {
    const at = args.indexOf(flag);
    return at >= 0 ? args[at + 1] : undefined;
  };
  const repo = value("--repo");
  const results = value("--results");
  const runUrl = value("--run-url");
  let expected: unknown;
  try {
    expected = JSON.parse(value("--expected") ?? "");
  } catch {
    expected = undefined;
  }
  if (!repo || !/^[\w.-]+\/[\w.-]+$/.test(repo) || !results || !Array.isArray(expected) || !expected.every((id) => typeof id === "string" && /^[\w-]+$/.test(id))) {
    console.error("usage: drift-issue.ts --repo owner/name --results DIR --expected '[\"vpc\",…]' [--run-url URL]");
    return 2;
  }
  if (!env.GITHUB_TOKEN) {
    console.error("drift-issue: GITHUB_TOKEN is not set");
    return 2;
  }
  const stackResults = readResults(results, expected as string[]);
  const body = renderDriftIssue(stackResults, runUrl);
  const drifted = stackResults.filter((result) => result.status !== "clean").map((result) => result.stack);
  const done = await reportDrift(githubIssues(env.GITHUB_API_URL ?? "https://api.github.com", env.GITHUB_TOKEN, repo), body, `Drift: ${drifted.join(", ")}`);
  console.log(JSON.stringify({ level: "info", message: "drift report", result: done, stacks: Object.fromEntries(stackResults.map((r) => [r.stack, r.status])) }));
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (error: unknown) => {
      console.error(JSON.stringify({ level: "error", message: "drift report failed", error: String(error) }));
      process.exitCode = 1;
    },
  );
}
