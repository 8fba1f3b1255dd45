/**
 * Structured logs: one JSON object per line on stdout, which journald keeps with the unit's name.
 * `level` follows syslog names so `journalctl -o json` filters read naturally.
 */
export type LogLevel = "debug" | "info" | "warn" | "error";

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

export function createLogger(base: Record<string, unknown> = {}, write: (line: string) => void = (line) => process.stdout.write(`${line}\n`)): Logger {
  const log = (level: LogLevel) => (message: string, fields: Record<string, unknown> = {}) =>
    write(JSON.stringify({ time: new Date().toISOString(), level, message, ...base, ...fields }));
  return { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error"), child: (fields) => createLogger({ ...base, ...fields }, write) };
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
