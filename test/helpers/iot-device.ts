// Shared with the benchmarks: the fixtures live in local/fixtures/.
export * from "../../local/fixtures/iot-device";
