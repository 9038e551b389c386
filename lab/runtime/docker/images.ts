/**
 * Images, built when missing or when their sources changed: a tag carries a hash of the Dockerfile, the files
 * it builds from and the id of the image it builds on. The lab's own (server, client) build from this
 * checkout; a scenario's own client program builds from its Dockerfile, on top of the lab's client image.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type Docker from 'dockerode';
import { RuntimeFailure } from '../../errors.ts';
import { isImageProgram } from '../../programs/programs.ts';
import type { Log } from '../runtime.ts';
import type { Role } from '../../plan/plan.ts';
import { isBuildStep, lastLines, openBuildLog } from './build-log.ts';
import { IMAGE_LABEL, SOURCE_HASH_LABEL } from './labels.ts';

export type ImageRole = 'server' | 'client';

/** The image a host of each role runs: a gateway needs only the client image's tools (ip, ss, nstat). */
export const IMAGE_OF_ROLE: Record<Role, ImageRole> = { server: 'server', client: 'client', gateway: 'client', proxy: 'client' };

async function listFiles(root: string, dir: string): Promise<string[]> {
  const entries = await readdir(join(root, dir), { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await listFiles(root, path)));
    else if (entry.isFile() && !isBuildOutput(entry.name)) files.push(path);
  }
  return files.sort();
}

/** Binaries built by hand next to their sources are not sources. */
function isBuildOutput(name: string): boolean {
  return isImageProgram(name) || name.endsWith('.o');
}

/** What Dockerfile.<role> builds from: the shared header and the role's own program. */
export async function imageSources(root: string, role: ImageRole): Promise<string[]> {
  return [`Dockerfile.${role}`, ...(await listFiles(root, 'images/common')), ...(await listFiles(root, `images/${role}`))];
}

export async function sourceHash(root: string, files: string[], fromImageId: string): Promise<string> {
  const hash = createHash('sha256').update(fromImageId);
  for (const file of files)
    hash
      .update(file)
      .update('\0')
      .update(await readFile(join(root, file)));
  return hash.digest('hex').slice(0, 16);
}

interface BuildSpec {
  repository: string;
  context: string;
  dockerfile: string;
  files: string[];
  /** The images it may build FROM: their ids are part of its tag, so a rebuilt base rebuilds it. */
  from: string[];
  buildArgs: Record<string, string>;
  kind: string;
}

async function ensureBuilt(docker: Docker, spec: BuildSpec, log: Log): Promise<string> {
  const from = await Promise.all(spec.from.map((image) => docker.getImage(image).inspect()));
  const hash = await sourceHash(spec.context, spec.files, from.map((image) => image.Id).join(' '));
  const tag = `${spec.repository}:${hash}`;
  try {
    await docker.getImage(tag).inspect();
    return tag;
  } catch {
    // not built yet for these sources
  }
  log(`building ${tag} from ${spec.dockerfile}`);
  const buildLog = await openBuildLog(tag, log);
  const wholeLog = buildLog.path ? `; the whole build: ${buildLog.path}` : '';
  try {
    await buildImage(
      docker,
      {
        context: spec.context,
        files: spec.files,
        tag,
        dockerfile: spec.dockerfile,
        buildArgs: spec.buildArgs,
        labels: { [IMAGE_LABEL]: spec.kind, [SOURCE_HASH_LABEL]: hash },
      },
      (reason, last) => new RuntimeFailure(`building ${tag} from ${spec.dockerfile} failed: ${reason.trim()}${wholeLog}`, undefined, last),
      (text) => {
        buildLog.write(text);
        // Its steps as they come: a first run's minutes are not silent, and its apt lines not shown.
        for (const line of text.split('\n')) if (isBuildStep(line.trim())) log(`${tag}: ${line.trim()}`);
      },
    );
  } finally {
    await buildLog.close();
  }
  return tag;
}

export interface ImageBuild {
  context: string;
  /** The files of the context sent to the engine. */
  files: string[];
  tag: string;
  dockerfile: string;
  buildArgs: Record<string, string>;
  labels: Record<string, string>;
}

/**
 * Builds an image to its end, its output given to `output` as it comes; a failed build rejects with
 * `failure(the engine's reason, the build's last lines)`.
 */
export async function buildImage(
  docker: Docker,
  build: ImageBuild,
  failure: (reason: string, last: string) => Error,
  output?: (text: string) => void,
): Promise<void> {
  const stream = await docker.buildImage(
    { context: build.context, src: build.files },
    { t: build.tag, dockerfile: build.dockerfile, buildargs: build.buildArgs, labels: build.labels, rm: true, forcerm: true },
  );
  const texts: string[] = [];
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (error, events: Array<{ error?: string }>) => {
        const failed = error?.message ?? events.find((e) => e.error)?.error;
        if (failed) {
          output?.(`${failed.trimEnd()}\n`);
          reject(failure(failed, lastLines(texts.join(''))));
        } else resolve();
      },
      (event: { stream?: string }) => {
        if (!event.stream) return;
        texts.push(event.stream);
        output?.(event.stream);
      },
    );
  });
}

/** The lab's server or client image for the current sources; returns its tag. */
export async function ensureImage(docker: Docker, root: string, role: ImageRole, baseImage: string, log: Log): Promise<string> {
  return ensureBuilt(
    docker,
    {
      repository: `lab-${role}`,
      context: root,
      dockerfile: `Dockerfile.${role}`,
      files: await imageSources(root, role),
      from: [baseImage],
      buildArgs: { BASE_IMAGE: baseImage },
      kind: role,
    },
    log,
  );
}

/**
 * A scenario's own client or server image: its Dockerfile's folder is the build context, and
 * LAB_CLIENT_IMAGE / LAB_SERVER_IMAGE name the lab's images to build on (so ss, nstat and the lab's programs
 * are there too).
 */
export async function ensureProgramImage(docker: Docker, dockerfile: string, labImages: Record<ImageRole, string>, log: Log): Promise<string> {
  const context = dirname(dockerfile);
  return ensureBuilt(
    docker,
    {
      repository: 'lab-program',
      context,
      dockerfile: basename(dockerfile),
      files: await listFiles(context, '.'),
      from: [labImages.client, labImages.server],
      buildArgs: { LAB_CLIENT_IMAGE: labImages.client, LAB_SERVER_IMAGE: labImages.server },
      kind: 'program',
    },
    log,
  );
}
