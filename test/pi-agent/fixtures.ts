import type { LocalPlatform } from "../../local/platform";
import { createLogger, type Logger } from "../../pi-agent/log";

/** Log lines an agent wrote, parsed, for assertions. */
export function memoryLogger(): { logger: Logger; lines: Record<string, any>[] } {
  const lines: Record<string, any>[] = [];
  return { logger: createLogger({}, (line) => void lines.push(JSON.parse(line))), lines };
}

export { agentConfigFor, command, controllerFor, registerSerials, type Controller } from "../../pi-agent/sim/fleet";

export async function revokeSerial(platform: LocalPlatform, serial: string): Promise<void> {
  const response = await fetch(`${platform.api.url}/serials/${serial}`, { method: "DELETE", headers: { "x-api-key": platform.api.key } });
  if (response.status >= 300) throw new Error(`revoking ${serial}: ${response.status}`);
}

export async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = "condition"): Promise<void> {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resume) => setTimeout(resume, 20));
  }
}
