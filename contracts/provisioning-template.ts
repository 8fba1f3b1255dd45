/**
 * The fleet provisioning template body (AWS IoT's template format). The iot-fleet stack
 * synthesizes it, and the local stand-in applies the synthesized copy.
 */
export interface DeviceTemplateProps {
  readonly thingTypeName: string;
  readonly thingGroupName: string;
  readonly devicePolicyName: string;
  /** Flat string settings handed to the device in RegisterThing's answer. */
  readonly deviceConfiguration: Readonly<Record<string, string>>;
}

export const SERIAL_NUMBER_PARAMETER = "SerialNumber";

/**
 * The thing name, given by the pre-provisioning hook in its parameterOverrides (deviceThingName() of
 * the canonical serial): the template restates no naming rule. A device that sends it itself is
 * overridden, and without the hook's answer nothing is provisioned.
 */
export const THING_NAME_PARAMETER = "ThingName";

/** The parameter IoT fills with the new certificate's id (a fleet template can only name the certificate by it). */
export const CERTIFICATE_ID_PARAMETER = "AWS::IoT::Certificate::Id";

export function deviceProvisioningTemplate(props: DeviceTemplateProps) {
  return {
    Parameters: {
      [SERIAL_NUMBER_PARAMETER]: { Type: "String" },
      [THING_NAME_PARAMETER]: { Type: "String" },
      [CERTIFICATE_ID_PARAMETER]: { Type: "String" },
    },
    Resources: {
      thing: {
        Type: "AWS::IoT::Thing",
        // Both parameters come from the pre-provisioning hook: the canonical serial and its thing name.
        Properties: {
          ThingName: { Ref: THING_NAME_PARAMETER },
          ThingTypeName: props.thingTypeName,
          ThingGroups: [props.thingGroupName],
          AttributePayload: { serialNumber: { Ref: SERIAL_NUMBER_PARAMETER } },
        },
        // An existing thing is never taken over: provisioning it again fails with
        // ResourceConflictsException. A reset (serial API) deletes the thing first.
        OverrideSettings: { AttributePayload: "FAIL", ThingTypeName: "FAIL", ThingGroups: "FAIL" },
      },
      certificate: {
        Type: "AWS::IoT::Certificate",
        Properties: { CertificateId: { Ref: CERTIFICATE_ID_PARAMETER }, Status: "ACTIVE" },
      },
      policy: {
        Type: "AWS::IoT::Policy",
        Properties: { PolicyName: props.devicePolicyName },
      },
    },
    DeviceConfiguration: { ...props.deviceConfiguration },
  };
}
