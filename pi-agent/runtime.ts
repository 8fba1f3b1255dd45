/**
 * How the agent's Node.js runs, wherever it runs: the systemd unit (rendered by build.ts), the
 * simulator, the benchmark and the tests all start it with these.
 *
 * - `--max-semi-space-size=1`: V8's young generation defaults to 16 MB semi-spaces on 64-bit; the
 *   agent's garbage is small JSON, and 1 MB keeps ~5 MB of RSS off a 512 MB Pi Zero 2 W.
 * - `--jitless`: V8 interprets only, with no JIT code space. The agent's work per command is small
 *   (a JSON parse, a schema check, a few file writes; TLS runs in aws-crt's native code), and
 *   measured on x64 it keeps ~8 MB off the steady RSS after 1,000 commands (bench/agent.ts).
 *   `--no-expose-wasm` says explicitly what --jitless implies (WebAssembly needs the JIT), which
 *   keeps V8's warning about it off stderr.
 * - `MALLOC_ARENA_MAX=2`: glibc gives each of aws-crt's event-loop threads its own malloc arena by
 *   default; two arenas are plenty for a handful of MQTT messages per second.
 */
export const AGENT_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=1", "--jitless", "--no-expose-wasm"];
export const AGENT_ENVIRONMENT: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: "2" };
