import type { CertificateAuthority } from "./certificate-authority";
import type { IotBroker } from "./iot-broker";
import { LocalIotJobs } from "./iot-jobs";
import { jobsMqttApi } from "./iot-jobs-mqtt";
import type { IotRegistry } from "./iot-registry";
import { startReleaseDownloads, type ReleaseDownloads } from "./release-downloads";

/**
 * Over-the-air updates on the local platform, as one step: release downloads over HTTPS (the release
 * bucket behind presigned URLs) and IoT Jobs on the broker, whose job documents' presign
 * placeholders become URLs of that server.
 */
export async function startJobsAndReleases(
  broker: IotBroker,
  registry: IotRegistry,
  authority: CertificateAuthority,
  options: { readonly jobsMinuteMs?: number; readonly releasesPort?: number },
): Promise<{ jobs: LocalIotJobs; releases: ReleaseDownloads; stop(): Promise<void> }> {
  const releases = await startReleaseDownloads({ authority, port: options.releasesPort });
  const jobs = new LocalIotJobs({
    registry,
    publish: (topic, payload) => broker.publish(topic, payload),
    presign: (s3Url, expiresInSec) => releases.presign(releases.keyOfS3Url(s3Url), expiresInSec),
    minuteMs: options.jobsMinuteMs,
  });
  broker.serve(jobsMqttApi(jobs));
  return {
    jobs,
    releases,
    stop: async () => {
      jobs.close();
      await releases.close();
    },
  };
}
