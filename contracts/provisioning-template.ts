/**
 * The fleet provisioning template body (AWS IoT's template format). The iot-fleet stack
 * synthesizes it, and the local stand-in applies the synthesized copy.
 */
export interface DeviceTemplateProps {
  /** `<project>-<env>`: thing names are `<prefix>-<serial>`, as contracts/devices.ts names them. */
  readonly thingNamePrefix: string;
  readonly thingTypeName: string;
  readonly thingGroupName: string;
  readonly devicePolicyName: string;
  /** Flat string settings handed to the device in RegisterThing's answer. */
  readonly deviceConfiguration: Readonly<Record<string, string>>;
}

export const SERIAL_NUMBER_PARAMETER = "SerialNumber";

export function deviceProvisioningTemplate(props: DeviceTemplateProps) {
  return {
    Parameters: {
      [SERIAL_NUMBER_PARAMETER]: { Type: "String" },
      "AWS::IoT::Certificate::Id": { Type: "String" },
    },
    Resources: {
      thing: {
        Type: "AWS::IoT::Thing",
        // SerialNumber is canonical here: the pre-provisioning hook overrides it with canonicalSerial().
        Properties: {
          ThingName: { "Fn::Join": ["", [`${props.thingNamePrefix}-`, { Ref: SERIAL_NUMBER_PARAMETER }]] },
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
        Properties: { CertificateId: { Ref: "AWS::IoT::Certificate::Id" }, Status: "ACTIVE" },
      },
      policy: {
        Type: "AWS::IoT::Policy",
        Properties: { PolicyName: props.devicePolicyName },
      },
    },
    DeviceConfiguration: { ...props.deviceConfiguration },
  };
}
