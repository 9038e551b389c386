/**
 * The server and client images, built from Dockerfile.server / Dockerfile.client when missing or when their
 * sources changed: the tag carries a hash of the Dockerfile, everything under images/ and the base image id.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type Docker from 'dockerode';
import { RuntimeFailure } from '../../errors.ts';
import type { Log } from '../runtime.ts';
import { IMAGE_LABEL, SOURCE_HASH_LABEL } from './labels.ts';

export type ImageRole = 'server' | 'client';

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
  return ['labserver', 'labclient', 'labchurn'].includes(name) || name.endsWith('.o');
}

/** What Dockerfile.<role> builds from: the shared header and the role's own program. */
export async function imageSources(root: string, role: ImageRole): Promise<string[]> {
  return [`Dockerfile.${role}`, ...(await listFiles(root, 'images/common')), ...(await listFiles(root, `images/${role}`))];
}

export async function sourceHash(root: string, files: string[], baseImageId: string): Promise<string> {
  const hash = createHash('sha256').update(baseImageId);
  for (const file of files) hash.update(relative(root, join(root, file))).update('\0').update(await readFile(join(root, file)));
  return hash.digest('hex').slice(0, 16);
}

/** Makes sure the role's image exists for the current sources; returns its tag. */
export async function ensureImage(docker: Docker, root: string, role: ImageRole, baseImage: string, log: Log): Promise<string> {
  const base = await docker.getImage(baseImage).inspect();
  const files = await imageSources(root, role);
  const hash = await sourceHash(root, files, base.Id);
  const tag = `lab-${role}:${hash}`;
  try {
    await docker.getImage(tag).inspect();
    return tag;
  } catch {
    // not built yet for these sources
  }
  log(`building ${tag} from Dockerfile.${role}`);
  const stream = await docker.buildImage(
    { context: root, src: files },
    {
      t: tag,
      dockerfile: `Dockerfile.${role}`,
      buildargs: { BASE_IMAGE: baseImage },
      labels: { [IMAGE_LABEL]: role, [SOURCE_HASH_LABEL]: hash },
      rm: true,
      forcerm: true,
    },
  );
  const output: string[] = [];
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (error, events: Array<{ error?: string }>) => {
        const failed = error?.message ?? events.find((e) => e.error)?.error;
        if (failed) {
          const tail = output.join('').trim().split('\n').slice(-15).join('\n');
          reject(new RuntimeFailure(`building ${tag} from Dockerfile.${role} failed: ${failed.trim()}`, undefined, tail));
        } else resolve();
      },
      (event: { stream?: string }) => {
        if (event.stream) output.push(event.stream);
      },
    );
  });
  return tag;
}
