import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The lab's own checkout, or its installed package: where the Dockerfiles, images/ and its scenarios are. */
export const projectRoot = fileURLToPath(new URL('../../', import.meta.url));
export const labScenarios = join(projectRoot, 'scenarios');
