/** One JSON object per line on stdout (the awslogs driver ships each line as one event). */
export type Log = (event: string, fields?: Record<string, unknown>, level?: "info" | "warn" | "error") => void;

export function jsonLog(write: (line: string) => void = (line) => process.stdout.write(`${line}\n`)): Log {
  return (event, fields = {}, level = "info") => write(JSON.stringify({ at: new Date().toISOString(), level, event, ...fields }));
}
