/** What every part of the bench is given: the bench's containers and images, the sizes asked for, the report. */
import { fileURLToPath } from 'node:url';
import type { DockerRuntime } from '../lab/runtime/docker/docker-runtime.ts';
import type { BenchDocker } from './lib.ts';
import type { BenchReport } from './output.ts';

/** The repository's root. */
export const root = fileURLToPath(new URL('../', import.meta.url));

export interface Images {
  base: string;
  client: string;
  server: string;
  /** The lab's client image with refconnect added (images/bench/Dockerfile.refconnect). */
  bench: string;
  /** The lab's server image with refpong added (images/bench/Dockerfile.refpong). */
  benchServer: string;
}

export interface Sizes {
  sparseCount: number;
  sparseRange: string;
  sparsePorts: number[];
  fullRange: string;
  rssCount: number;
  overheadClients: number;
  overheadReps: number;
}

export function sizes(quick: boolean): Sizes {
  return quick
    ? {
        sparseCount: 4000,
        sparseRange: '1024 65535',
        sparsePorts: [8080, 8081, 8082, 8083],
        fullRange: '40000 41999',
        rssCount: 5000,
        overheadClients: 16,
        overheadReps: 1,
      }
    : // 19,000 and not 20,000: the engine caps a container's open files at dockerd's own hard limit (20,000
      // here), so one process cannot hold 20,000 sockets. Still < 10% of each destination's 64,512 ports.
      {
        sparseCount: 19000,
        sparseRange: '1024 65535',
        sparsePorts: [8080, 8081, 8082, 8083],
        fullRange: '40000 49999',
        rssCount: 20000,
        overheadClients: 16,
        overheadReps: 3,
      };
}

export interface BenchContext {
  bench: BenchDocker;
  /** The lab's own runtime, for the parts that time it or run a scenario with it. */
  runtime: DockerRuntime;
  images: Images;
  nofile: number;
  sizes: Sizes;
  reps: number;
  quick: boolean;
  maxWaitS: number;
  demoCases?: number[];
  demoBare: boolean;
  holdSizes: number[];
  holdBuckets?: number;
  report: BenchReport;
}
