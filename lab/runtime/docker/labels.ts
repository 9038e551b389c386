/** Every Docker object the lab creates for a run carries RUN_LABEL=<run id>; cleanup finds them by it. */
export const RUN_LABEL = 'lab.run';
export const IMAGE_LABEL = 'lab.image';
export const SOURCE_HASH_LABEL = 'lab.source-hash';

export function runLabels(runId: string, extra: Record<string, string> = {}): Record<string, string> {
  return { [RUN_LABEL]: runId, ...extra };
}

export function runFilter(runId: string | undefined): { label: string[] } {
  return { label: [runId ? `${RUN_LABEL}=${runId}` : RUN_LABEL] };
}
