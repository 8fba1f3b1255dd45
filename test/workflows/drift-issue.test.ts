import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readResults, renderDriftIssue, reportDrift, type IssueApi } from "../../scripts/plan-comment/drift-issue";

/** What drift.yml's plan job writes per stack: exitcode, plus plan.json (2) or error.txt (1). */
function resultsFolder(results: Record<string, { exitcode: string; plan?: object; error?: string }>): string {
  const dir = mkdtempSync(join(tmpdir(), "drift-"));
  for (const [stack, result] of Object.entries(results)) {
    mkdirSync(join(dir, `drift-${stack}`));
    writeFileSync(join(dir, `drift-${stack}`, "exitcode"), `${result.exitcode}\n`);
    if (result.plan) writeFileSync(join(dir, `drift-${stack}`, "plan.json"), JSON.stringify(result.plan));
    if (result.error) writeFileSync(join(dir, `drift-${stack}`, "error.txt"), result.error);
  }
  return dir;
}

/** An in-memory stand-in for the issues API (no local GitHub exists: this is a mock). */
function fakeIssues(initial: { number: number; body: string; login: string }[] = []) {
  const issues = initial.map((issue) => ({ number: issue.number, body: issue.body, user: { login: issue.login }, state: "open", comments: [] as string[] }));
  const api: IssueApi = {
    openIssues: async () => issues.filter((issue) => issue.state === "open"),
    createIssue: async (_title, body) => {
      issues.push({ number: issues.length + 100, body, user: { login: "github-actions[bot]" }, state: "open", comments: [] });
      return issues.length + 99;
    },
    updateIssue: async (number, body) => {
      const issue = issues.find((candidate) => candidate.number === number);
      if (issue) issue.body = body;
    },
    closeIssue: async (number, comment) => {
      const issue = issues.find((candidate) => candidate.number === number);
      issue?.comments.push(comment);
      if (issue) issue.state = "closed";
    },
  };
  return { api, issues };
}

describe("drift issue", () => {
  const drifted = { format_version: "1.2", resource_changes: [{ address: "aws_security_group.controller", change: { actions: ["update"] } }] };
  const folder = resultsFolder({
    vpc: { exitcode: "2", plan: drifted },
    ecr: { exitcode: "0" },
    iot: { exitcode: "1", error: "Error: AccessDenied: iot:GetPolicy\n" },
  });
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it("reads each stack's result; a stack without one was not checked", () => {
    const results = readResults(folder, ["vpc", "ecr", "iot", "api"]);
    expect(results.map((result) => result.status)).toEqual(["drifted", "clean", "error", "error"]);
    expect(results[3]).toEqual({ stack: "api", status: "error", error: expect.stringContaining("left no result") });
  });

  it("lists drifted stacks with their resources, and the ones that could not be planned", () => {
    const body = renderDriftIssue(readResults(folder, ["vpc", "ecr", "iot"]), "https://github.example/run/9") ?? "";
    expect(body).toContain("**1 drifted**, 1 could not be planned, 1 clean");
    expect(body).toContain("### `vpc`: 1 resource differ\n\n- `aws_security_group.controller` (update)");
    expect(body).toContain("### `iot`: could not be planned\n\n```text\nError: AccessDenied: iot:GetPolicy\n```");
    expect(body).not.toContain("`ecr`");
    expect(renderDriftIssue(readResults(folder, ["ecr"]))).toBeUndefined();
  });

  it("opens one issue, updates it in place, and closes it when nothing drifts", async () => {
    const { api, issues } = fakeIssues([{ number: 1, body: "<!-- smart-home-drift -->\nforged", login: "someone" }]);
    const body = renderDriftIssue(readResults(folder, ["vpc"]));
    expect(await reportDrift(api, body, "Drift: vpc")).toBe("opened #101");
    expect(await reportDrift(api, `${body}\nagain`, "Drift: vpc")).toBe("updated #101");
    expect(issues.filter((issue) => issue.state === "open")).toHaveLength(2); // the forged one is not ours
    expect(issues.find((issue) => issue.number === 101)?.body).toContain("again");
    expect(await reportDrift(api, undefined, "")).toBe("no drift, closed #101");
    expect(issues.find((issue) => issue.number === 101)).toMatchObject({ state: "closed", comments: [expect.stringContaining("No drift")] });
    expect(await reportDrift(api, undefined, "")).toBe("no drift, no open issue");
    expect(issues.find((issue) => issue.number === 1)?.state).toBe("open");
  });
});
