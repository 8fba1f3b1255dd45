import { createBroker, type Client } from "aedes";
import { spawn } from "node:child_process";
import { randomUUID, X509Certificate } from "node:crypto";
import { join } from "node:path";
import { createServer, type Server, type TLSSocket } from "node:tls";
import type { AddressInfo } from "node:net";
import { lifecycleEventSchema } from "../contracts/lifecycle-events";
import { lifecycleTopic } from "../contracts/topics";
import { certificateIdOf, type CertificateAuthority } from "./certificate-authority";
import type { FleetProvisioning } from "./fleet-provisioning";
import { evaluate, type ConnectionContext, type IotAction } from "./iot-policy";
import type { IotRegistry } from "./iot-registry";

/**
 * The MQTT side of AWS IoT Core, on loopback: MQTT 3.1.1 (aedes) over mutual TLS. A client is its
 * certificate: only ACTIVE certificates of the registry connect (a certificate that leaves ACTIVE has
 * its live connections closed at once), and every connect, publish,
 * subscribe and delivery is decided by the IoT policies attached to that certificate. Denied
 * connects and publishes close the connection, denied subscriptions are refused, and denied
 * deliveries are dropped, as in IoT Core. Lifecycle events are published on connect and disconnect.
 */
export interface IotBroker {
  readonly host: string;
  readonly port: number;
  /** Called with every message that reaches the broker's topics (for the rules engine). */
  onMessage(listener: (message: { topic: string; payload: Buffer; clientId?: string }) => void): void;
  /** Answers requests on reserved topics (IoT Jobs): once the policy allows the publish, to the publisher only. */
  serve(api: ReservedTopicApi): void;
  /** Publishes as the service (e.g. a Jobs notify-next push) to every subscriber the policies let receive it. */
  publish(topic: string, payload: Record<string, unknown>): void;
  close(): Promise<void>;
}

/**
 * A service API on reserved topics, like IoT Jobs: requests are never forwarded to subscribers, and
 * each reply goes to the requesting connection only (still subject to its iot:Receive permission).
 */
export interface ReservedTopicApi {
  /** True for a request topic this API answers. */
  handles(topic: string): boolean;
  answer(request: { topic: string; payload: Buffer; clientId: string }): readonly ReservedTopicReply[];
}

export interface ReservedTopicReply {
  readonly topic: string;
  readonly payload: Record<string, unknown>;
}

interface Connection extends ConnectionContext {
  readonly certificateId: string;
  readonly sessionIdentifier: string;
  readonly versionNumber: number;
  disconnectReason?: string;
}

export async function startIotBroker(options: {
  registry: IotRegistry;
  authority: CertificateAuthority;
  provisioning: FleetProvisioning;
  port?: number;
}): Promise<IotBroker> {
  const { registry, provisioning } = options;
  const connections = new WeakMap<Client, Connection>();
  const versions = new Map<string, number>();
  const listeners: ((message: { topic: string; payload: Buffer; clientId?: string }) => void)[] = [];
  const reservedApis: ReservedTopicApi[] = [];
  const reservedApiOf = (topic: string) => reservedApis.find((api) => api.handles(topic));
  const arn = (resource: string) => `arn:aws:iot:${registry.region}:${registry.accountId}:${resource}`;
  const allowed = (connection: Connection, action: IotAction, resource: string) =>
    evaluate(registry.policiesOf(connection.certificateId), { action, resource: arn(resource), connection }) === "Allow";

  const broker = createBroker({
    authenticate(client, _username, _password, done) {
      const peer = (client.conn as TLSSocket).getPeerX509Certificate?.() as X509Certificate | undefined;
      const certificateId = peer ? certificateIdOf(peer.toString()) : undefined;
      const certificate = certificateId ? registry.certificates.get(certificateId) : undefined;
      const refuse = () => done(Object.assign(new Error("not authorized"), { returnCode: 5 }), false);
      if (!certificateId || certificate?.status !== "ACTIVE") return refuse();
      const versionNumber = (versions.get(client.id) ?? -1) + 1;
      const connection: Connection = {
        clientId: client.id,
        certificateId,
        thingName: registry.thingOf(certificateId, client.id),
        sessionIdentifier: randomUUID(),
        versionNumber,
      };
      if (!allowed(connection, "iot:Connect", `client/${client.id}`)) return refuse();
      versions.set(client.id, versionNumber);
      connections.set(client, connection);
      done(null, true);
    },
    authorizePublish(client, packet, done) {
      const connection = client ? connections.get(client) : undefined;
      if (!client || !connection) return done(null);
      if (registry.certificates.get(connection.certificateId)?.status !== "ACTIVE") {
        // Never acknowledged: the connection of a certificate that left ACTIVE is being cut.
        connection.disconnectReason = "AUTH_ERROR";
        return done(new Error(`certificate ${connection.certificateId} is not active`));
      }
      if (!allowed(connection, "iot:Publish", `topic/${packet.topic}`)) {
        connection.disconnectReason = "FORBIDDEN_ACCESS";
        return done(new Error(`publish to ${packet.topic} denied`));
      }
      if (provisioning.handles(packet.topic)) {
        void provisioning
          .answer({ topic: packet.topic, payload: Buffer.from(packet.payload), clientId: client.id, certificateId: connection.certificateId })
          .then((answer) => client.publish({ cmd: "publish", topic: answer.topic, payload: Buffer.from(JSON.stringify(answer.payload)), qos: 0, retain: false, dup: false }, () => undefined));
      }
      const reservedApi = reservedApiOf(packet.topic);
      if (reservedApi) {
        for (const reply of reservedApi.answer({ topic: packet.topic, payload: Buffer.from(packet.payload), clientId: client.id })) {
          client.publish({ cmd: "publish", topic: reply.topic, payload: Buffer.from(JSON.stringify(reply.payload)), qos: 1, retain: false, dup: false }, () => undefined);
        }
      }
      done(null);
    },
    authorizeSubscribe(client, subscription, done) {
      const connection = connections.get(client);
      const permitted = connection && allowed(connection, "iot:Subscribe", `topicfilter/${subscription.topic}`);
      done(null, permitted ? subscription : null);
    },
    authorizeForward(client, packet) {
      // Provisioning requests are answered to their sender only, never forwarded.
      if (provisioning.handles(packet.topic) && !/\/(accepted|rejected)$/.test(packet.topic)) return null;
      if (reservedApiOf(packet.topic)) return null;
      const connection = connections.get(client);
      return connection && allowed(connection, "iot:Receive", `topic/${packet.topic}`) ? packet : null;
    },
  });

  const publishLifecycle = (eventType: "connected" | "disconnected", connection: Connection, extra: Record<string, unknown>) => {
    // Parsed with the contract the presence function parses with: the stand-in sends only what AWS IoT would.
    const payload = lifecycleEventSchema.parse({
      clientId: connection.clientId,
      timestamp: Date.now(),
      eventType,
      sessionIdentifier: connection.sessionIdentifier,
      principalIdentifier: connection.certificateId,
      versionNumber: connection.versionNumber,
      ...extra,
    });
    broker.publish({ cmd: "publish", topic: lifecycleTopic(eventType, connection.clientId), payload: Buffer.from(JSON.stringify(payload)), qos: 1, retain: false, dup: false }, () => undefined);
  };

  // AWS IoT disconnects devices using a certificate within minutes of it leaving ACTIVE; locally every
  // live connection of that certificate is closed at once, with the lifecycle reason AUTH_ERROR.
  registry.onCertificateStatusChange((certificateId, status) => {
    if (status === "ACTIVE") return;
    for (const client of Object.values((broker as unknown as { clients: Record<string, Client> }).clients)) {
      const connection = connections.get(client);
      if (connection?.certificateId !== certificateId) continue;
      connection.disconnectReason = "AUTH_ERROR";
      client.close();
    }
  });

  broker.on("client", (client) => {
    // A second connection with the same client id takes over; IoT Core disconnects the first.
    for (const other of Object.values((broker as unknown as { clients: Record<string, Client> }).clients)) {
      const connection = other !== client && other.id === client.id ? connections.get(other) : undefined;
      if (connection) connection.disconnectReason = "DUPLICATE_CLIENTID";
    }
  });
  broker.on("clientReady", (client) => {
    const connection = connections.get(client);
    const socket = client.conn as TLSSocket;
    if (connection) publishLifecycle("connected", connection, { ipAddress: socket.remoteAddress ?? "127.0.0.1" });
  });
  broker.on("keepaliveTimeout", (client) => {
    const connection = connections.get(client);
    if (connection) connection.disconnectReason = "MQTT_KEEP_ALIVE_TIMEOUT";
  });
  broker.on("clientDisconnect", (client) => {
    const connection = connections.get(client);
    if (!connection) return;
    const clientInitiated = (client as unknown as { _disconnected: boolean })._disconnected;
    const reason = clientInitiated ? "CLIENT_INITIATED_DISCONNECT" : (connection.disconnectReason ?? "CONNECTION_LOST");
    publishLifecycle("disconnected", connection, { clientInitiatedDisconnect: clientInitiated, disconnectReason: reason });
  });
  broker.on("publish", (packet, client) => {
    if (packet.topic.startsWith("$SYS/")) return;
    for (const listener of listeners) listener({ topic: packet.topic, payload: Buffer.from(packet.payload), clientId: client?.id });
  });

  const server: Server = createServer(
    {
      key: options.authority.server.privateKeyPem,
      cert: options.authority.server.certificatePem,
      ca: options.authority.caPem,
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: "TLSv1.2",
    },
    (socket) => broker.handle(socket),
  );
  // MQTT packets are small: without this, Nagle's algorithm holds one back until the previous is
  // acknowledged (~40 ms on loopback). It must be set on the TCP socket, under TLS.
  server.on("connection", (socket) => socket.setNoDelay(true));
  const relay = await startQuickAckRelay(options.port ?? 0, server);

  return {
    host: "127.0.0.1",
    port: relay.port,
    onMessage: (listener) => void listeners.push(listener),
    serve: (api) => void reservedApis.push(api),
    // Deferred: a push caused by a request must be numbered after the request's reply, or aedes'
    // per-client dedupe (by broker counter) would drop the push that arrives second.
    publish: (topic, payload) =>
      void setImmediate(() => broker.publish({ cmd: "publish", topic, payload: Buffer.from(JSON.stringify(payload)), qos: 1, retain: false, dup: false }, () => undefined)),
    close: async () => {
      await relay.stop();
      await new Promise<void>((done) => broker.close(() => done()));
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}

/**
 * Puts local/tcp-quickack-relay.py in front of the TLS server, so clients' packets are acknowledged
 * at once (see that file). Without python3 the broker is served directly, ~40 ms slower per QoS 1
 * exchange.
 */
async function startQuickAckRelay(publicPort: number, server: Server): Promise<{ port: number; stop(): Promise<void> }> {
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", () => done()));
  const brokerPort = (server.address() as AddressInfo).port;
  const relay = spawn("python3", [join(__dirname, "tcp-quickack-relay.py"), String(publicPort), String(brokerPort)], { stdio: ["pipe", "pipe", "inherit"], env: process.env });
  const started = await new Promise<{ port: number } | { missing: true } | { failed: number | null }>((resolve) => {
    relay.once("error", () => resolve({ missing: true }));
    relay.once("exit", (code) => resolve({ failed: code }));
    relay.stdout.once("data", (chunk: Buffer) => resolve({ port: Number(chunk.toString().trim()) }));
  });
  if ("failed" in started) throw new Error(`the MQTT relay could not listen on port ${publicPort} (exit ${started.failed}); is it in use?`);
  if ("missing" in started) {
    console.warn("python3 is not available: MQTT is served without the quick-ACK relay (QoS 1 exchanges ~40 ms slower)");
    await new Promise<void>((done) => server.close(() => done()));
    await new Promise<void>((done) => server.listen(publicPort, "127.0.0.1", () => done()));
    return { port: (server.address() as AddressInfo).port, stop: async () => undefined };
  }
  const port = started.port;
  return {
    port,
    stop: () =>
      new Promise<void>((done) => {
        if (relay.exitCode !== null) return done();
        relay.once("exit", () => done());
        relay.stdin.end();
      }),
  };
}
