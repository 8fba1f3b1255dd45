// Run in a fresh process by bench/functions.ts: loads a handler module, serves one event, and
// prints the load time, the time to the first answer, and the bytes of code it loaded.
const { statSync } = require("node:fs");
const [modulePath, eventJson] = process.argv.slice(2);
const started = process.hrtime.bigint();
const { handler } = require(modulePath);
const loaded = process.hrtime.bigint();
Promise.resolve(handler(JSON.parse(eventJson))).then(
  () => {
    const answered = process.hrtime.bigint();
    const loadedBytes = Object.keys(require.cache).reduce((sum, file) => sum + statSync(file).size, 0);
    process.stderr.write(
      "\nBENCH_REPORT " +
        JSON.stringify({ loadMs: Number(loaded - started) / 1e6, firstEventMs: Number(answered - started) / 1e6, loadedBytes, modules: Object.keys(require.cache).length }),
    );
    // SDK clients keep sockets alive, as they should in Lambda; here the process has done its job.
    process.exit(0);
  },
  (error) => {
    process.stderr.write("\nBENCH_REPORT " + JSON.stringify({ error: String(error) }));
    process.exit(1);
  },
);
