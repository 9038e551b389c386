/**
 * An image build's whole output goes to a file in the lab's cache, named as the build starts; the run shows
 * only the build's steps, and a failed build's last lines. Without a terminal every line shown is a line
 * printed: apt alone prints hundreds per image.
 */
import type { WriteStream } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import { dirname } from 'node:path';
import { cacheDir } from '../cache.ts';
import type { Log } from '../runtime.ts';

/** How many of a failed build's last lines its error shows. */
export const FAILED_BUILD_LINES = 30;

export interface BuildLog {
  /** Where the whole output is, unless the file could not be made. */
  readonly path?: string;
  write(text: string): void;
  close(): Promise<void>;
}

export function buildLogPath(image: string): string {
  return cacheDir('image-builds', `${image.replace(/[:/]/g, '-')}.log`);
}

/** The file for one image's build, named in the run's log; a log that cannot be written never fails the build. */
export async function openBuildLog(image: string, log: Log): Promise<BuildLog> {
  const path = buildLogPath(image);
  let file: WriteStream;
  try {
    await mkdir(dirname(path), { recursive: true });
    file = (await open(path, 'w')).createWriteStream();
  } catch (error) {
    log(`image build log: not kept (${(error as NodeJS.ErrnoException).code ?? String(error)} on ${path})`);
    return { write: () => undefined, close: async () => undefined };
  }
  file.on('error', () => undefined);
  log(`image build log: ${path}`);
  return {
    path,
    write: (text) => void file.write(text),
    close: async () => {
      file.end();
      await finished(file).catch(() => undefined);
    },
  };
}

/** A build step as Docker's builder names it ("Step 3/12 : RUN ..."): what the run shows of a build. */
export function isBuildStep(line: string): boolean {
  return /^Step \d+\/\d+ : /.test(line);
}

/** The last lines of a build's output, for its error. */
export function lastLines(output: string, count = FAILED_BUILD_LINES): string {
  return output.trimEnd().split('\n').slice(-count).join('\n');
}
