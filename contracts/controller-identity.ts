import * as z from "zod/mini";

/**
 * The controller's IoT identity, stored as one JSON secret by the `iot` stack and read at start by
 * the controller: everything it needs to connect to AWS IoT Core over mutual TLS.
 */
export const controllerIdentitySchema = z.object({
  /** Thing name, and the MQTT client id the controller policy allows. */
  thingName: z.string().check(z.minLength(1)),
  /** The account's ATS data endpoint, e.g. `abc123-ats.iot.eu-west-1.amazonaws.com`. */
  endpoint: z.string().check(z.minLength(1)),
  certificatePem: z.string().check(z.startsWith("-----BEGIN CERTIFICATE-----")),
  privateKey: z.string().check(z.includes("PRIVATE KEY-----")),
  /** Amazon Root CA 1, which signs the ATS endpoint's certificate. */
  caPem: z.string().check(z.startsWith("-----BEGIN CERTIFICATE-----")),
});

export type ControllerIdentity = z.infer<typeof controllerIdentitySchema>;
