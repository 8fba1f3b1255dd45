import { builtInCommands, type GetStateResult, type PingResult, type SetOutputResult } from "../../contracts/commands";
import { defineHandler, type CommandHandler } from "./handler";
import type { GpioBackend } from "./gpio";

export interface BuiltInDependencies {
  readonly agentVersion: string;
  readonly startedAt: number;
  readonly gpio: GpioBackend;
  /** Output name → line offset (config gpio.outputs). */
  readonly outputs: Readonly<Record<string, number>>;
  queuedMessages(): number;
}

/** `ping`, `get-state` and `set-output`, with the schemas of contracts/commands.ts. */
export function builtInHandlers(deps: BuiltInDependencies): CommandHandler[] {
  const uptimeSeconds = () => (Date.now() - deps.startedAt) / 1000;
  const outputValues = new Map<string, boolean | null>(Object.keys(deps.outputs).map((name) => [name, null]));
  return [
    defineHandler({
      action: "ping",
      params: builtInCommands.ping.params,
      run: async (): Promise<PingResult> => ({ pong: true, uptimeSeconds: uptimeSeconds() }),
    }),
    defineHandler({
      action: "get-state",
      params: builtInCommands["get-state"].params,
      run: async (_params, context): Promise<GetStateResult> => ({
        thingName: context.thingName,
        agentVersion: deps.agentVersion,
        uptimeSeconds: uptimeSeconds(),
        outputs: Object.fromEntries(outputValues),
        queuedMessages: deps.queuedMessages(),
      }),
    }),
    defineHandler({
      action: "set-output",
      params: builtInCommands["set-output"].params,
      run: async ({ output, on }): Promise<SetOutputResult> => {
        const line = deps.outputs[output];
        if (line === undefined) throw new Error(`no output "${output}" in the config (configured: ${Object.keys(deps.outputs).join(", ") || "none"})`);
        await deps.gpio.set(line, on);
        outputValues.set(output, on);
        return { output, on };
      },
    }),
  ];
}
