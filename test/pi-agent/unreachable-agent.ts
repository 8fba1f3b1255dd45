/**
 * Entry point of a deliberately broken release for the rollback test: the real agent, except that
 * it cannot reach IoT Core (it swaps its config for a copy whose port nobody listens on), as a
 * release with a bad endpoint, CA or TLS change would be. Bundled by pi-agent/build.ts like main.ts.
 */
import { readFileSync, writeFileSync } from "node:fs";

const flag = process.argv.indexOf("--config");
const file = process.argv[flag + 1]!;
const unreachable = `${file}.unreachable.json`;
writeFileSync(unreachable, JSON.stringify({ ...JSON.parse(readFileSync(file, "utf8")), port: 1 }));
process.argv[flag + 1] = unreachable;
// require, not import: imports are hoisted, and main reads process.argv as it loads.
require("../../pi-agent/main");
