import { spawn } from "node:child_process";
import { join } from "node:path";

/** `npm run local -- --json` as a person runs it: one JSON line with everything, Ctrl-C stops it cleanly. */
it("starts, prints the endpoints as one JSON line, serves the API, and stops on SIGINT", async () => {
  const child = spawn(process.execPath, ["--import", "tsx", "local/main.ts", "--json"], {
    cwd: join(__dirname, "..", ".."),
    env: { ...process.env, LOCAL_MQTT_PORT: "0", LOCAL_API_PORT: "0", CHECKPOINT_DISABLE: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const line = await new Promise<string>((resolve, reject) => {
    let output = "";
    child.stdout.on("data", (chunk) => {
      output += chunk;
      if (output.includes("\n")) resolve(output.split("\n")[0]!);
    });
    child.on("exit", (code) => reject(new Error(`exited ${code} before printing`)));
  });
  const summary = JSON.parse(line);
  expect(summary).toMatchObject({
    mqtt: { endpoint: "localhost", port: expect.any(Number), caPath: expect.stringMatching(/ca\.pem$/) },
    api: { url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/v1$/), key: expect.stringMatching(/^[0-9a-f]{40}$/) },
    provisioningTemplate: "smarthome-dev-fleet",
    claims: [{ batch: "batch-1", certificatePath: expect.any(String), privateKeyPath: expect.any(String) }],
  });
  const response = await fetch(`${summary.api.url}/serials/SN-NOBODY`, { headers: { "x-api-key": summary.api.key } });
  expect(response.status).toBe(404);
  expect((await fetch(`${summary.api.url}/serials/SN-NOBODY`)).status).toBe(403);

  const exitCode = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  child.kill("SIGINT");
  expect(await exitCode).toBe(0);
}, 60_000);
