/**
 * The image's HEALTHCHECK: exit 0 only when GET /healthz answers 200 (MQTT connected). Runs with
 * the container's environment, so it asks the port the controller listens on.
 */
const port = Number(process.env.PORT ?? 8080);
fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(3000) }).then(
  (response) => process.exit(response.status === 200 ? 0 : 1),
  () => process.exit(1),
);
