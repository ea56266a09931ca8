// What the export helpers decide without I/O: when a polled job is done, and where its file is.
import { ExportError } from "./errors.js";
import type { JobFieldsFragment } from "./generated/graphql.js";

export type ExportJob = JobFieldsFragment;

/** The finished job; null to poll again; ExportError when it failed or the wait ran out. */
export function exportOutcome(job: ExportJob, outOfTime: boolean): ExportJob | null {
  if (job.status === "FINISHED") return job;
  if (job.status === "FAILED") throw new ExportError(`Export ${job.id} failed: ${job.error ?? ""}`, job);
  if (outOfTime) throw new ExportError(`Export ${job.id} is still ${job.status}`, job);
  return null;
}

/** Where a finished job's CSV is: its `downloadUrl`, or the REST path for a bare id. */
export function downloadPath(job: ExportJob | string): string {
  if (typeof job === "string") return `/admin/jobs/${encodeURIComponent(job)}/download`;
  if (!job.downloadUrl) throw new ExportError(`Export ${job.id} has no file (status ${job.status})`, job);
  return job.downloadUrl;
}

/** Wait `ms`, or less when `signal` aborts (then its reason is thrown). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", stop);
      resolve();
    }, ms);
    const stop = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", stop, { once: true });
  });
}
