/** Moved to local/testing/ so benches and tests share one copy; tests keep importing it from here. */
export * from "../../local/testing/iot-device";
