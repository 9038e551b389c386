import { fileURLToPath } from 'node:url';

/** The lab's own checkout: where the Dockerfiles and images/ are. */
export const projectRoot = fileURLToPath(new URL('../../', import.meta.url));
