/**
 * Turns `terraform show -json` of one stack's plan into one pull-request comment, and keeps one
 * comment per stack up to date (a hidden marker finds it again). plan.yml runs it:
 *
 *   tsx scripts/plan-comment.ts publish --repo owner/name --pr 12 --plans plans --synth cdktf.out \
 *     --expected '["vpc","ec2"]' [--unplannable '["state"]'] [--run-url URL] [--commit SHA]
 *
 * `--plans` holds one folder per planned stack, `plan-<stack>/`, with `plan.json` (terraform show
 * -json) and `plan.txt` (terraform show -no-color) when the plan worked, or `error.txt` when it
 * failed. A stack in --expected without a folder gets a comment saying its plan job left no result.
 * Existing plan comments of stacks this run did not plan are updated to say so.
 * GITHUB_TOKEN (pull-requests: write) and GITHUB_API_URL (set by Actions) reach the REST API.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

/**
 * GitHub refuses a comment body over 65,536 characters ("Body is too long (maximum is 65536
 * characters)", the REST API's 422, e.g. telia-oss/github-pr-resource#259). Counting UTF-16 code
 * units keeps us under it however it is measured (code points or bytes / 4).
 */
export const COMMENT_LIMIT = 65_536;

/** Addresses listed per action before "… and N more" (the full plan below has them all). */
const ADDRESSES_PER_ACTION = 100;

export type PlanAction = "create" | "update" | "replace" | "delete";
const ACTIONS: readonly PlanAction[] = ["create", "update", "replace", "delete"];
const ACTION_TITLES: Record<PlanAction, string> = { create: "add", update: "change", replace: "replace", delete: "destroy" };

/** The parts of Terraform's JSON plan representation this script reads. */
export interface PlanJson {
  readonly format_version: string;
  readonly resource_changes?: readonly { readonly address: string; readonly change: { readonly actions: readonly string[] } }[];
  readonly output_changes?: Readonly<Record<string, { readonly actions: readonly string[] }>>;
}

export interface PlanSummary {
  readonly addresses: Record<PlanAction, string[]>;
  readonly outputs: string[];
}

/** The hidden line that marks a stack's plan comment. */
export function marker(stack: string): string {
  return `<!-- smart-home-plan stack=${stack} -->`;
}

/** The stack a comment body belongs to, from its marker. */
export function markedStack(body: string): string | undefined {
  return /^<!-- smart-home-plan stack=([\w-]+) -->/.exec(body)?.[1];
}

/** Resource addresses by action; a replace is ["delete","create"] or ["create","delete"] (create_before_destroy). */
export function summarize(plan: PlanJson): PlanSummary {
  if (typeof plan.format_version !== "string") throw new Error("not terraform show -json output (no format_version)");
  const addresses: Record<PlanAction, string[]> = { create: [], update: [], replace: [], delete: [] };
  for (const { address, change } of plan.resource_changes ?? []) {
    const actions = [...change.actions].sort().join(",");
    const action: PlanAction | undefined =
      actions === "create,delete" ? "replace" : actions === "create" ? "create" : actions === "update" ? "update" : actions === "delete" ? "delete" : undefined;
    if (action) addresses[action].push(address);
  }
  const outputs = Object.entries(plan.output_changes ?? {})
    .filter(([, change]) => !(change.actions.length === 1 && change.actions[0] === "no-op"))
    .map(([name]) => name);
  return { addresses, outputs };
}

/**
 * Addresses of resources with `lifecycle.prevent_destroy` in a synthesized stack. Terraform's JSON
 * plan leaves lifecycle settings out of its configuration representation, so they are read from
 * the cdk.tf.json the plan was made from.
 */
export function protectedAddresses(stackJson: { resource?: Record<string, Record<string, { lifecycle?: { prevent_destroy?: boolean } }>> }): Set<string> {
  const found = new Set<string>();
  for (const [type, byName] of Object.entries(stackJson.resource ?? {})) {
    for (const [name, resource] of Object.entries(byName)) {
      if (resource.lifecycle?.prevent_destroy === true) found.add(`${type}.${name}`);
    }
  }
  return found;
}

export interface CommentContext {
  readonly stack: string;
  /** Link to the workflow run, whose artifacts hold the full plan. */
  readonly runUrl?: string;
  /** Commit the plan was made for. */
  readonly commit?: string;
  /** @default COMMENT_LIMIT */
  readonly limit?: number;
}

/** The comment for a plan that worked. */
export function renderPlan(context: CommentContext, plan: PlanJson, planText: string, protectedResources: ReadonlySet<string> = new Set()): string {
  const { addresses, outputs } = summarize(plan);
  const total = ACTIONS.reduce((sum, action) => sum + addresses[action].length, 0);
  const counts = ACTIONS.map((action) => `**${addresses[action].length}** to ${ACTION_TITLES[action]}`).join(", ");
  const lines = [`${header(context)} ${total === 0 ? "no resource changes" : counts}`, ""];
  if (outputs.length > 0) lines.push(`Outputs that change: ${outputs.map((name) => `\`${name}\``).join(", ")}`, "");

  const destructive = [...addresses.delete, ...addresses.replace];
  if (destructive.length > 0) {
    lines.push(
      "> [!CAUTION]",
      `> **This plan destroys ${destructive.length} resource${destructive.length === 1 ? "" : "s"}** (${addresses.delete.length} destroyed, ${addresses.replace.length} replaced). Their data and ids are gone after apply; check each one below before merging.`,
      "",
    );
  }
  const touchedProtected = ACTIONS.flatMap((action) => addresses[action].filter((address) => protectedResources.has(address)).map((address) => `\`${address}\` (${ACTION_TITLES[action]})`));
  if (touchedProtected.length > 0) {
    lines.push(
      "> [!WARNING]",
      `> **Protected resources change** (\`prevent_destroy\`): ${touchedProtected.join(", ")}. A plan that destroys one fails; a change to one deserves a second reviewer.`,
      "",
    );
  }
  for (const action of ACTIONS) {
    const list = addresses[action];
    if (list.length === 0) continue;
    const shown = list.slice(0, ADDRESSES_PER_ACTION).map((address) => `- \`${address}\`${protectedResources.has(address) ? " 🔒" : ""}`);
    if (list.length > shown.length) shown.push(`- … and ${list.length - shown.length} more (see the full plan)`);
    lines.push(`**${capitalize(ACTION_TITLES[action])}** (${list.length})`, "", ...shown, "");
  }
  return withCollapsedText(context, lines.join("\n"), "Full plan", planText);
}

/** The comment for a plan that failed: the error, and why it matters when prevent_destroy stopped it. */
export function renderFailure(context: CommentContext, errorText: string): string {
  const lines = [`${header(context)} **the plan failed**`, ""];
  if (/Instance cannot be destroyed|prevent_destroy/.test(errorText)) {
    lines.push(
      "> [!CAUTION]",
      "> **This change would destroy a protected resource** (`lifecycle.prevent_destroy`, e.g. the image repository or the state bucket). Terraform refused to plan it; see docs/delivery.md before lifting the protection.",
      "",
    );
  }
  return withCollapsedText(context, lines.join("\n"), "Error", errorText, true);
}

/** A comment that says something instead of a plan (not planned here, no longer changed …). */
export function renderNotice(context: CommentContext, text: string): string {
  return `${header(context)} ${text}\n`;
}

function header({ stack, commit }: CommentContext): string {
  return `${marker(stack)}\n### \`${stack}\` plan${commit ? ` at ${commit.slice(0, 7)}` : ""}:`;
}

/**
 * Appends text in a fenced block inside <details>, cut at a line boundary so the whole body fits
 * the limit, with a note saying at which line it was cut and where the rest is.
 */
function withCollapsedText(context: CommentContext, head: string, title: string, text: string, open = false): string {
  const limit = context.limit ?? COMMENT_LIMIT;
  const fence = "`".repeat(Math.max(3, ...[...text.matchAll(/`+/g)].map((run) => run[0].length + 1)));
  const opening = `<details${open ? " open" : ""}><summary>${title}</summary>\n\n${fence}text\n`;
  const closing = (note: string) => `${fence}\n${note}\n</details>\n`;
  const whole = `${head}\n${opening}${text.endsWith("\n") ? text : `${text}\n`}${closing("")}`;
  if (whole.length <= limit) return whole;

  const allLines = text.split("\n");
  const where = context.runUrl ? `the \`plan-${context.stack}\` artifact of [this run](${context.runUrl})` : `the \`plan-${context.stack}\` artifact of the workflow run`;
  const note = (kept: number) =>
    `\n_Cut after line ${kept} of ${allLines.length} to fit GitHub's ${limit.toLocaleString("en-US")}-character comment limit; the whole text is in ${where}._\n`;
  const budget = limit - head.length - 1 - opening.length - closing(note(allLines.length)).length;
  if (budget < 0) throw new Error(`the ${context.stack} comment's summary alone exceeds ${limit} characters`);
  let used = 0;
  let kept = 0;
  while (kept < allLines.length && used + (allLines[kept] as string).length + 1 <= budget) used += (allLines[kept++] as string).length + 1;
  return `${head}\n${opening}${allLines.slice(0, kept).join("\n")}\n${closing(note(kept))}`;
}

function capitalize(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

/** One stack's comment from its plan folder (see the file comment), or undefined when there is none. */
export function renderFromFolder(context: CommentContext, folder: string, protectedResources: ReadonlySet<string>): string | undefined {
  if (!existsSync(folder)) return undefined;
  const read = (name: string) => readFileSync(join(folder, name), "utf8");
  if (existsSync(join(folder, "error.txt"))) return renderFailure(context, read("error.txt"));
  if (!existsSync(join(folder, "plan.json")) || !existsSync(join(folder, "plan.txt"))) {
    return renderFailure(context, `${folder} has neither error.txt nor plan.json and plan.txt: the plan job stopped before it wrote them.`);
  }
  return renderPlan(context, JSON.parse(read("plan.json")) as PlanJson, read("plan.txt"), protectedResources);
}

// --- Publishing: one comment per stack, updated in place -------------------------------------------

interface IssueComment {
  readonly id: number;
  readonly body?: string;
  readonly user?: { readonly login?: string; readonly type?: string };
}

/** The REST calls publishing needs (GitHub's issues API; a pull request is an issue). */
export class GithubComments {
  constructor(
    private readonly apiUrl: string,
    private readonly token: string,
    private readonly repo: string,
    private readonly pr: number,
  ) {}

  /** Every comment on the pull request (100 a page). */
  async list(): Promise<IssueComment[]> {
    const all: IssueComment[] = [];
    for (let page = 1; ; page++) {
      const batch = (await this.call("GET", `/repos/${this.repo}/issues/${this.pr}/comments?per_page=100&page=${page}`)) as IssueComment[];
      all.push(...batch);
      if (batch.length < 100) return all;
    }
  }

  async create(body: string): Promise<void> {
    await this.call("POST", `/repos/${this.repo}/issues/${this.pr}/comments`, { body });
  }

  async update(id: number, body: string): Promise<void> {
    await this.call("PATCH", `/repos/${this.repo}/issues/comments/${id}`, { body });
  }

  private async call(method: string, path: string, body?: unknown): Promise<unknown> {
    const response = await fetch(`${this.apiUrl}${path}`, {
      method,
      headers: {
        accept: "application/vnd.github+json",
        authorization: `Bearer ${this.token}`,
        "x-github-api-version": "2022-11-28",
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
    return response.status === 204 ? undefined : response.json();
  }
}

/** Only comments this workflow wrote count: anyone can paste a marker into a comment of their own. */
const AUTHOR = "github-actions[bot]";

/**
 * Creates or updates one comment per stack in `bodies`; comments of stacks not in `bodies` get
 * `staleNotice(stack)` (once). Returns what it did, per stack.
 */
export async function publish(
  comments: Pick<GithubComments, "list" | "create" | "update">,
  bodies: ReadonlyMap<string, string>,
  staleNotice: (stack: string) => string,
): Promise<Record<string, "created" | "updated" | "unchanged" | "marked stale">> {
  const existing = new Map<string, IssueComment>();
  for (const comment of await comments.list()) {
    const stack = comment.body ? markedStack(comment.body) : undefined;
    if (stack && comment.user?.login === AUTHOR && !existing.has(stack)) existing.set(stack, comment);
  }
  const done: Record<string, "created" | "updated" | "unchanged" | "marked stale"> = {};
  for (const [stack, body] of bodies) {
    const comment = existing.get(stack);
    if (!comment) {
      await comments.create(body);
      done[stack] = "created";
    } else if (comment.body === body) {
      done[stack] = "unchanged";
    } else {
      await comments.update(comment.id, body);
      done[stack] = "updated";
    }
  }
  for (const [stack, comment] of existing) {
    if (bodies.has(stack)) continue;
    const notice = staleNotice(stack);
    if (comment.body !== notice) {
      await comments.update(comment.id, notice);
      done[stack] = "marked stale";
    }
  }
  return done;
}

// --- Command line ----------------------------------------------------------------------------------

class UsageError extends Error {}

function option(args: readonly string[], flag: string, required: true): string;
function option(args: readonly string[], flag: string, required?: false): string | undefined;
function option(args: readonly string[], flag: string, required = false): string | undefined {
  const at = args.indexOf(flag);
  const value = at >= 0 ? args[at + 1] : undefined;
  if (at >= 0 && (value === undefined || value.startsWith("--"))) throw new UsageError(`${flag} takes a value`);
  if (required && value === undefined) throw new UsageError(`${flag} is required`);
  return value;
}

function stackList(args: readonly string[], flag: string): string[] {
  const raw = option(args, flag) ?? "[]";
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new UsageError(`${flag} takes a JSON list of stack ids, got ${raw}`);
  }
  if (!Array.isArray(parsed) || !parsed.every((id) => typeof id === "string" && /^[\w-]+$/.test(id))) {
    throw new UsageError(`${flag} takes a JSON list of stack ids, got ${raw}`);
  }
  return parsed as string[];
}

export async function main(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  try {
    if (args[0] !== "publish") throw new UsageError("usage: plan-comment.ts publish --repo owner/name --pr N --plans DIR --synth DIR --expected JSON …");
    const repo = option(args, "--repo", true);
    if (!/^[\w.-]+\/[\w.-]+$/.test(repo)) throw new UsageError("--repo takes owner/name");
    const pr = Number(option(args, "--pr", true));
    if (!Number.isInteger(pr) || pr <= 0) throw new UsageError("--pr takes a pull request number");
    const plans = option(args, "--plans", true);
    const synth = option(args, "--synth", true);
    const expected = stackList(args, "--expected");
    const unplannable = stackList(args, "--unplannable");
    const runUrl = option(args, "--run-url");
    const commit = option(args, "--commit");
    const token = env.GITHUB_TOKEN;
    if (!token) throw new UsageError("GITHUB_TOKEN is not set");

    const context = (stack: string): CommentContext => ({ stack, ...(runUrl ? { runUrl } : {}), ...(commit ? { commit } : {}) });
    const bodies = new Map<string, string>();
    for (const stack of expected) {
      const stackFile = join(synth, "stacks", stack, "cdk.tf.json");
      const protectedResources = existsSync(stackFile) ? protectedAddresses(JSON.parse(readFileSync(stackFile, "utf8"))) : new Set<string>();
      const body =
        renderFromFolder(context(stack), join(plans, `plan-${stack}`), protectedResources) ??
        renderFailure(context(stack), `The plan job of ${stack} left no result (cancelled, timed out, or failed before terraform ran); see ${runUrl ?? "the workflow run"}.`);
      bodies.set(stack, body);
    }
    for (const stack of unplannable) {
      bodies.set(stack, renderNotice(context(stack), "**changed, not planned here.** This stack keeps local state on an administrator's machine; an administrator plans and applies it (docs/delivery.md)."));
    }
    const comments = new GithubComments(env.GITHUB_API_URL ?? "https://api.github.com", token, repo, pr);
    const done = await publish(comments, bodies, (stack) => renderNotice(context(stack), "no changes in this pull request any more."));
    console.log(JSON.stringify({ level: "info", message: "plan comments published", pr, stacks: done }));
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`plan-comment: ${error.message}`);
      return 2;
    }
    console.error(JSON.stringify({ level: "error", message: "publishing plan comments failed", error: String(error) }));
    return 1;
  }
}

if (require.main === module) void main(process.argv.slice(2)).then((code) => (process.exitCode = code));
