// Preloaded into a benchmarked process: on exit, writes its peak RSS and uptime to BENCH_USAGE_FILE.
const { writeFileSync } = require("node:fs");
process.on("exit", () => {
  const file = process.env.BENCH_USAGE_FILE;
  if (file) writeFileSync(file, JSON.stringify({ peakRssKiB: process.resourceUsage().maxRSS, uptimeMs: process.uptime() * 1000 }));
});
