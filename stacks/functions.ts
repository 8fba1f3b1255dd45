import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { Construct } from "constructs";
import type { ProjectNames } from "../contracts/names";
import { bundleFunctions } from "../modules/function-bundle";
import { NodejsFunction, type NodejsFunctionProps } from "../modules/nodejs-function";

const functionsDirectory = join(__dirname, "..", "functions");

/** Every Lambda of the platform: each folder under functions/ with an index.ts (shared/ has none). */
export function functionIds(): string[] {
  return readdirSync(functionsDirectory)
    .filter((id) => existsSync(join(functionsDirectory, id, "index.ts")))
    .sort();
}

function functionEntry(id: string): string {
  const entry = join(functionsDirectory, id, "index.ts");
  if (!existsSync(entry)) throw new Error(`no function ${id}: functions/${id}/index.ts does not exist (functions: ${functionIds().join(", ")})`);
  return entry;
}

export interface ProjectFunctionProps extends Omit<NodejsFunctionProps, "functionName" | "roleName" | "entry"> {
  readonly names: ProjectNames;
}

/**
 * A Lambda of this project, wired from its id alone: the id is the construct id, the folder
 * `functions/<id>/`, the function name `names.lambdaFunction(id)` and the role `names.role(id)`.
 * A subclass, not a wrapper, so the construct path (and the Terraform addresses) stay those of
 * `NodejsFunction`.
 */
export class ProjectFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, { names, ...props }: ProjectFunctionProps) {
    super(scope, id, { ...props, functionName: names.lambdaFunction(id), roleName: names.role(id), entry: functionEntry(id) });
  }
}

/**
 * Bundles every function in one esbuild run (they share most of their code, so one run costs far
 * less than one per function); each stack's function then finds its bundle already built.
 */
export function bundleAllFunctions(): void {
  bundleFunctions(functionIds().map(functionEntry));
}
