import { mqtt } from "aws-iot-device-sdk-v2";
import { randomUUID } from "node:crypto";
import { jobsTopics } from "../../contracts/topics";
import type { LocalPlatform } from "../../local/platform";
import { connect, type Credentials } from "./iot-device";

/** One message a client received: its topic and JSON payload. */
export interface Received {
  readonly topic: string;
  readonly payload: Record<string, any>;
}

/**
 * A device speaking the IoT Jobs MQTT API by hand (plain MQTT 3.1.1 over mutual TLS, no Jobs
 * client), as the tests need to send malformed and out-of-order requests. It subscribes only to
 * notify and notify-next, as a device does; replies arrive without a subscription, as on AWS, and
 * are seen through the connection's catch-all message event.
 */
export class JobsDevice {
  readonly received: Received[] = [];
  readonly topics: ReturnType<typeof jobsTopics>;

  private constructor(
    readonly connection: mqtt.MqttClientConnection,
    readonly thingName: string,
  ) {
    this.topics = jobsTopics(thingName);
    connection.on("message", (topic, payload) => {
      const text = Buffer.from(payload).toString("utf8");
      this.received.push({ topic, payload: JSON.parse(text) as Record<string, any> });
    });
  }

  static async open(platform: LocalPlatform, credentials: Credentials, thingName: string): Promise<JobsDevice> {
    const device = new JobsDevice(await connect(platform, credentials, thingName), thingName);
    for (const topic of [device.topics.notifyNext, device.topics.notify]) {
      const granted = await device.connection.subscribe(topic, mqtt.QoS.AtLeastOnce);
      if ((granted.qos as number) === 128) throw new Error(`subscription to ${topic} refused`);
    }
    return device;
  }

  /** Publishes a request (a JSON body with a fresh clientToken, or raw text) and waits for its one reply. */
  async request(topic: string, body: Record<string, unknown> | string = {}): Promise<Received & { outcome: "accepted" | "rejected" }> {
    const clientToken = randomUUID();
    const payload = typeof body === "string" ? body : JSON.stringify({ ...body, clientToken });
    const isReply = (message: Received) => message.topic === `${topic}/accepted` || message.topic === `${topic}/rejected`;
    const matches = (message: Received) => isReply(message) && (typeof body === "string" || message.payload.clientToken === clientToken);
    const before = this.received.length;
    await this.connection.publish(topic, payload, mqtt.QoS.AtLeastOnce);
    const reply = await this.waitFor(matches, before);
    return { ...reply, outcome: reply.topic.endsWith("/accepted") ? "accepted" : "rejected" };
  }

  startNext(body: Record<string, unknown> = {}) {
    return this.request(this.topics.startNext, body);
  }

  update(jobId: string, body: Record<string, unknown>) {
    return this.request(this.topics.update(jobId), body);
  }

  describe(jobId: string, body: Record<string, unknown> = {}) {
    return this.request(this.topics.describe(jobId), body);
  }

  /** The first message from index `from` on that satisfies the predicate, waiting for it. */
  async waitFor(predicate: (message: Received) => boolean, from = 0, timeoutMs = 5000): Promise<Received> {
    const started = Date.now();
    for (;;) {
      const found = this.received.slice(from).find(predicate);
      if (found) return found;
      if (Date.now() - started > timeoutMs) throw new Error(`${this.thingName}: no matching message in ${timeoutMs} ms; got ${JSON.stringify(this.received.slice(from).map((m) => m.topic))}`);
      await new Promise((resume) => setTimeout(resume, 10));
    }
  }

  /** notify-next messages received so far. */
  notifications(): Received[] {
    return this.received.filter((message) => message.topic === this.topics.notifyNext);
  }

  close(): Promise<void> {
    return this.connection.disconnect();
  }
}
