import { mqtt } from "aws-iot-device-sdk-v2";
import { commandSchema, type Command } from "../../contracts/messages";
import { deviceTopics } from "../../contracts/topics";
import type { LocalPlatform } from "../platform";
import { connect, provision } from "./iot-device";

/** What a simulated agent does with a command: answer (result), fail (error code), or stay silent. */
export type AgentBehaviour = (command: Command) => { result: unknown } | { errorCode: string; message: string } | { silent: true; later?: () => unknown };

export interface SimulatedAgent {
  readonly thingName: string;
  readonly connection: mqtt.MqttClientConnection;
  readonly received: Command[];
  /** Publishes a response for a command now (for answers that come late). */
  respond(commandId: string, result: unknown): Promise<void>;
  disconnect(): Promise<void>;
}

/**
 * A device as the Pi agent will be (that agent is written elsewhere): provisioned by claim through
 * the local platform with the real SDK, subscribed to its commands topic, answering with
 * `responseSchema` payloads on its responses topic (or `deviceErrorSchema` on its errors topic).
 */
export async function startSimulatedAgents(platform: LocalPlatform, topicRoot: string, serials: readonly string[], behaviour: AgentBehaviour): Promise<SimulatedAgent[]> {
  const registered = await fetch(`${platform.api.url}/serials`, {
    method: "POST",
    headers: { "x-api-key": platform.api.key, "content-type": "application/json" },
    body: JSON.stringify({ serials }),
  });
  if (!registered.ok) throw new Error(`registering serials failed: ${registered.status} ${await registered.text()}`);
  const topics = deviceTopics(topicRoot);
  const qos = mqtt.QoS.AtLeastOnce;
  return Promise.all(
    serials.map(async (serial) => {
      const device = await provision(platform, { serial });
      const connection = await connect(platform, device, device.thingName);
      const received: Command[] = [];
      const respond = async (commandId: string, result: unknown) => {
        await connection.publish(topics.responses(device.thingName), JSON.stringify({ commandId, result, completedAt: new Date().toISOString() }), qos);
      };
      await connection.subscribe(topics.commands(device.thingName), qos, (_topic, payload) => {
        const command = commandSchema.parse(JSON.parse(Buffer.from(payload).toString("utf8")));
        received.push(command);
        const answer = behaviour(command);
        if ("result" in answer) void respond(command.id, answer.result);
        else if ("errorCode" in answer) {
          void connection.publish(
            topics.errors(device.thingName),
            JSON.stringify({ commandId: command.id, code: answer.errorCode, message: answer.message, at: new Date().toISOString() }),
            qos,
          );
        }
      });
      return { thingName: device.thingName, connection, received, respond, disconnect: () => connection.disconnect().then(() => undefined) };
    }),
  );
}
