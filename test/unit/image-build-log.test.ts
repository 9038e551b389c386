import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import { expect } from 'chai';
import { RuntimeFailure } from '../../lab/errors.ts';
import { buildLogPath, isBuildStep, lastLines } from '../../lab/runtime/docker/build-log.ts';
import { ensureImage } from '../../lab/runtime/docker/images.ts';

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));
const BASE = 'base:test';

/** An engine that has only the base image and builds by replaying these events, as dockerode gives them. */
function engine(events: Array<{ stream?: string; error?: string }>): Docker {
  return {
    getImage: (name: string) => ({ inspect: async () => (name === BASE ? { Id: 'sha256:base' } : Promise.reject(new Error('no such image'))) }),
    buildImage: async () => ({}),
    modem: {
      followProgress(_stream: unknown, finished: (error: Error | null, events: unknown[]) => void, progress: (event: unknown) => void) {
        for (const event of events) progress(event);
        finished(null, events);
      },
    },
  } as unknown as Docker;
}

const aptLines = Array.from({ length: 400 }, (_, i) => ({ stream: `Get:${i} http://deb.debian.org/debian bookworm/main amd64 package-${i}\n` }));
const build = [
  { stream: 'Step 1/3 : ARG BASE_IMAGE=debian:bookworm-slim\n' },
  { stream: 'Step 2/3 : FROM ${BASE_IMAGE}\n' },
  { stream: ' ---> a28f39b87b8a\n' },
  { stream: 'Step 3/3 : RUN apt-get update && apt-get install -y iproute2\n' },
  { stream: ' ---> Running in 0be5f5569da1\n' },
  ...aptLines,
];

describe('image builds: the steps in the log, the whole output in a file', () => {
  let cache: string;
  let saved: string | undefined;
  beforeEach(() => {
    cache = mkdtempSync(join(tmpdir(), 'lab-cache-'));
    saved = process.env.XDG_CACHE_HOME;
    process.env.XDG_CACHE_HOME = cache;
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = saved;
    rmSync(cache, { recursive: true, force: true });
  });

  it('shows the build and its file, then only its step lines; the file holds every line', async () => {
    const lines: string[] = [];
    const tag = await ensureImage(engine(build), projectRoot, 'server', BASE, (line) => lines.push(line));
    const path = buildLogPath(tag);
    expect(path.startsWith(join(cache, 'lab', 'image-builds'))).to.equal(true);
    expect(lines).to.deep.equal([
      `building ${tag} from Dockerfile.server`,
      `image build log: ${path}`,
      `${tag}: Step 1/3 : ARG BASE_IMAGE=debian:bookworm-slim`,
      `${tag}: Step 2/3 : FROM \${BASE_IMAGE}`,
      `${tag}: Step 3/3 : RUN apt-get update && apt-get install -y iproute2`,
    ]);
    expect(readFileSync(path, 'utf8')).to.equal(build.map((e) => e.stream).join(''));
  });

  it('fails with the engine reason and the file named, the last 30 lines under it', async () => {
    const reason = "The command '/bin/sh -c apt-get update' returned a non-zero code: 100";
    const error = await ensureImage(engine([...build, { error: reason }]), projectRoot, 'client', BASE, () => undefined).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(RuntimeFailure);
    const failure = error as RuntimeFailure;
    const path = /the whole build: (\S+)$/.exec(failure.message)?.[1];
    expect(failure.message).to.include(`failed: ${reason}; the whole build: `);
    expect(failure.details!.split('\n')).to.have.length(30);
    expect(failure.details!.split('\n')[29]).to.equal('Get:399 http://deb.debian.org/debian bookworm/main amd64 package-399');
    expect(readFileSync(path!, 'utf8').endsWith(`package-399\n${reason}\n`)).to.equal(true);
  });

  it('knows a step line from the lines a step prints', () => {
    expect(isBuildStep('Step 12/12 : CMD ["sleep", "600"]')).to.equal(true);
    expect(isBuildStep(' ---> Using cache')).to.equal(false);
    expect(isBuildStep('Get:1 http://deb.debian.org/debian bookworm InRelease [151 kB]')).to.equal(false);
    expect(lastLines('a\nb\nc\n', 2)).to.equal('b\nc');
  });
});
