import { QoS, type MqttClientConnection } from "aws-crt/dist/native/mqtt";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { deviceTopics } from "../contracts/topics";
import { backoffDelayMs, sleep } from "./backoff";
import { builtInHandlers } from "./commands/built-in";
import { LibgpiodGpio, SimulatedGpio, type GpioBackend } from "./commands/gpio";
import type { CommandHandler } from "./commands/handler";
import type { AgentConfig } from "./config";
import { Dispatcher } from "./dispatcher";
import { IdentityStore, type DeviceIdentity } from "./identity";
import { CommandLedger } from "./ledger";
import { createLogger, errorText, type Logger } from "./log";
import { mqttConnection } from "./mqtt";
import { Outbox } from "./outbox";
import { deviceSerial } from "./serial";
import { JobsClient } from "./updates/jobs-client";
import { Updater } from "./updates/updater";

export interface AgentOptions {
  /** Handlers beyond the built-ins (an action may not repeat). @default none */
  readonly handlers?: readonly CommandHandler[];
  /** @default JSON lines on stdout */
  readonly logger?: Logger;
  /** @default from config.gpio.backend */
  readonly gpio?: GpioBackend;
  /** @default "dev" (the release build sets it) */
  readonly version?: string;
  /** Where the serial is read when the config has none. @default /proc/device-tree/serial-number */
  readonly serialPath?: string;
  /**
   * Called when an update switched `current` (or rolled it back): the process must stop and exit so
   * systemd (Restart=always) starts the version `current` points at. @default stops the agent
   */
  readonly restart?: (reason: string) => void;
}

/**
 * The device agent: provisions itself by claim on first boot, then connects as its thing with a
 * persistent session, answers every command exactly once through the on-disk outbox, and reconnects
 * until stopped.
 */
export class Agent {
  private readonly logger: Logger;
  private readonly store: IdentityStore;
  private readonly stopSignal = new AbortController();
  private connection?: MqttClientConnection;
  private dispatcher?: Dispatcher;
  private outbox?: Outbox;
  private draining?: Promise<void>;
  private jobs?: JobsClient;
  private updater?: Updater;
  private connected = false;
  identity?: DeviceIdentity;

  constructor(
    private readonly config: AgentConfig,
    private readonly options: AgentOptions = {},
  ) {
    this.logger = options.logger ?? createLogger({ component: "smart-home-agent" });
    mkdirSync(config.stateDirectory, { recursive: true, mode: 0o700 });
    this.store = new IdentityStore(config.stateDirectory);
  }

  get thingName(): string | undefined {
    return this.identity?.thingName;
  }

  get queuedMessages(): number {
    return this.outbox?.size ?? 0;
  }

  /** Resolves once the agent is subscribed to its commands (or stopped first). */
  async start(): Promise<void> {
    const identity = this.store.load() ?? (await this.provision());
    if (!identity) return;
    this.identity = identity;
    const topicRoot = identity.deviceConfiguration.topicRoot;
    if (!topicRoot) throw new Error("the provisioning template gave no topicRoot in its DeviceConfiguration");
    const topics = deviceTopics(topicRoot);
    const logger = this.logger.child({ thingName: identity.thingName });
    this.outbox = new Outbox(join(this.config.stateDirectory, "outbox.json"), this.config.outboxLimit, logger);
    const gpio = this.options.gpio ?? (this.config.gpio.backend === "libgpiod" ? new LibgpiodGpio(this.config.gpio.chip) : new SimulatedGpio());
    const builtIns = builtInHandlers({
      agentVersion: this.options.version ?? "dev",
      startedAt: Date.now(),
      gpio,
      outputs: this.config.gpio.outputs,
      queuedMessages: () => this.queuedMessages,
    });
    this.dispatcher = new Dispatcher({
      thingName: identity.thingName,
      handlers: [...builtIns, ...(this.options.handlers ?? [])],
      ledger: new CommandLedger(join(this.config.stateDirectory, "command-ledger.jsonl"), this.config.ledgerLimit),
      timeoutMs: this.config.commandTimeoutMs,
      logger,
      emit: (outcome) => {
        this.outbox!.push(outcome);
        this.drain(topics);
      },
    });

    // Clean session off: IoT Core keeps the subscription and queues QoS 1 commands while the Pi is
    // offline (persistent session, 1 hour by default), and delivers them on reconnect.
    // https://docs.aws.amazon.com/iot/latest/developerguide/mqtt.html#mqtt-persistent-sessions
    const connection = mqttConnection(this.config, identity, { clientId: identity.thingName, cleanSession: false });
    this.connection = connection;
    const commandsTopic = topics.commands(identity.thingName);
    const updater = new Updater({
      config: this.config,
      runningVersion: this.options.version ?? "dev",
      jobs: { startNext: () => jobs.startNext(), update: (...args) => jobs.update(...args) },
      logger,
      restart: this.options.restart ?? (() => void this.stop()),
    });
    const jobs = new JobsClient(connection, identity.thingName, (execution) => updater.onNextChanged(execution));
    this.jobs = jobs;
    this.updater = updater;
    connection.on("message", (topic, payload) => {
      if (topic === commandsTopic) void this.dispatcher!.deliver(new Uint8Array(payload)).catch((error) => logger.error("command handling failed", { error: errorText(error) }));
      else if (jobs.handles(topic)) jobs.deliver(topic, payload);
    });
    connection.on("interrupt", (error) => {
      this.connected = false;
      logger.warn("connection interrupted", { error: errorText(error) });
    });
    connection.on("resume", (returnCode, sessionPresent) => {
      logger.info("connection resumed", { returnCode, sessionPresent, queued: this.queuedMessages });
      this.connected = true;
      updater.connected();
      const resubscribe = sessionPresent ? Promise.resolve() : connection.subscribe(commandsTopic, QoS.AtLeastOnce).then(() => this.subscribeToJobs(logger));
      void resubscribe
        .then(() => {
          this.drain(topics);
          void updater.onConnected();
        })
        .catch((error) => logger.error("resubscribe failed", { error: errorText(error) }));
    });

    updater.armConnectDeadline();
    for (let attempt = 0; !this.stopSignal.signal.aborted; attempt += 1) {
      try {
        const sessionPresent = await connection.connect();
        updater.connected();
        logger.info("connected", { sessionPresent, queued: this.queuedMessages });
        break;
      } catch (error) {
        const waitMs = backoffDelayMs(attempt, this.config.backoff);
        logger.warn("connect failed; retrying", { error: errorText(error), attempt, waitMs });
        await sleep(waitMs, this.stopSignal.signal);
      }
    }
    if (this.stopSignal.signal.aborted) return;
    const granted = await connection.subscribe(commandsTopic, QoS.AtLeastOnce);
    if (granted.qos !== QoS.AtLeastOnce) throw new Error(`subscription to ${commandsTopic} refused (granted QoS ${granted.qos})`);
    this.connected = true;
    logger.info("subscribed to commands", { topic: commandsTopic });
    this.drain(topics);
    if (await this.subscribeToJobs(logger)) void updater.onConnected();
  }

  /** Jobs topics for updates; an agent whose policy refuses them still answers commands. */
  private async subscribeToJobs(logger: Logger): Promise<boolean> {
    try {
      await this.jobs!.subscribe();
      return true;
    } catch (error) {
      logger.error("over-the-air updates unavailable: jobs subscription failed", { error: errorText(error) });
      return false;
    }
  }

  /** Clean shutdown: answer or fail in-flight commands, keep what is unpublished on disk, disconnect. */
  async stop(): Promise<void> {
    this.stopSignal.abort();
    this.updater?.stop();
    this.jobs?.close();
    await this.dispatcher?.stop();
    // Give the outbox a moment to reach IoT Core; whatever is left is on disk for the next start.
    if (this.connected && this.draining) await Promise.race([this.draining, sleep(2000)]);
    this.connected = false;
    // Bounded: a connection that never came up (a new version rolling back) has nothing to close.
    if (this.connection) await Promise.race([this.connection.disconnect().catch(() => undefined), sleep(2000)]);
    this.logger.info("stopped", { queued: this.queuedMessages, dropped: this.outbox?.dropped ?? 0 });
  }

  /** Publishes the outbox in order, one message at a time, removing each on its PUBACK. */
  private drain(topics: ReturnType<typeof deviceTopics>): void {
    if (this.draining || !this.connected || !this.outbox!.head()) return;
    const thingName = this.identity!.thingName;
    this.draining = (async () => {
      await Promise.resolve(); // run after `draining` is set, so a second call never starts a second loop
      try {
        for (let head = this.outbox!.head(); head && this.connected; head = this.outbox!.head()) {
          await this.connection!.publish(topics[head.kind](thingName), JSON.stringify(head.payload), QoS.AtLeastOnce);
          this.outbox!.shift();
        }
      } catch (error) {
        this.logger.warn("publish failed; the message stays queued", { error: errorText(error), queued: this.queuedMessages });
      } finally {
        this.draining = undefined;
      }
    })();
  }

  /** First boot: retries until provisioned or stopped; undefined when stopped first. */
  private async provision(): Promise<DeviceIdentity | undefined> {
    const serial = deviceSerial(this.config.serial, this.options.serialPath);
    const { certificatePath, privateKeyPath } = this.config.claim;
    if (!existsSync(certificatePath) || !existsSync(privateKeyPath)) {
      throw new Error(`not provisioned and no claim certificate at ${certificatePath} / ${privateKeyPath}: install the batch claim (docs/pi.md)`);
    }
    const claim = { certificatePem: readFileSync(certificatePath, "utf8"), privateKeyPem: readFileSync(privateKeyPath, "utf8") };
    const logger = this.logger.child({ serial });
    const { provisionOnce, ProvisioningRejected } = await import("./provisioning");
    for (let attempt = 0; !this.stopSignal.signal.aborted; attempt += 1) {
      try {
        logger.info("provisioning by claim", { attempt });
        const identity = await provisionOnce(this.config, this.store, serial, claim, logger);
        logger.info("provisioned", { thingName: identity.thingName });
        for (const path of [certificatePath, privateKeyPath]) {
          try {
            rmSync(path);
          } catch (error) {
            logger.warn("could not delete the claim credentials", { path, error: errorText(error) });
          }
        }
        return identity;
      } catch (error) {
        const waitMs = backoffDelayMs(attempt, this.config.backoff);
        if (error instanceof ProvisioningRejected) {
          logger.error(`serial ${serial} refused by fleet provisioning: is it registered (npm run serials) and not revoked? retrying later`, { step: error.step, errorCode: error.response.errorCode, errorMessage: error.response.errorMessage, attempt, waitMs });
        } else {
          logger.warn("provisioning failed; retrying", { error: errorText(error), attempt, waitMs });
        }
        await sleep(waitMs, this.stopSignal.signal);
      }
    }
    return undefined;
  }
}
