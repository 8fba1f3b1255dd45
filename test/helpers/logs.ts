/**
 * Collects the structured log lines a function writes. Powertools logs through the global console
 * when POWERTOOLS_DEV is set (as its own examples test), one JSON document per call.
 */
export function captureFunctionLogs(): { level: string; message: string; [key: string]: unknown }[] {
  const logs: { level: string; message: string }[] = [];
  beforeEach(() => {
    logs.length = 0;
    for (const method of ["debug", "info", "warn", "error", "log"] as const) {
      jest.spyOn(console, method).mockImplementation((...args: unknown[]) => void logs.push(parseLine(String(args[0]))));
    }
  });
  afterEach(() => jest.restoreAllMocks());
  return logs;
}

/** A structured log line, or plain text (a CLI's output) kept as its message. */
function parseLine(line: string): { level: string; message: string } {
  try {
    return JSON.parse(line);
  } catch {
    return { level: "TEXT", message: line };
  }
}

export const POWERTOOLS_TEST_ENV = { POWERTOOLS_DEV: "true" };
