/** Every runtime the lab has: one line each. Its folder registers it (name, abilities, create, clean up). */
import './docker/index.ts';
import './netns/index.ts';
import './swarm/index.ts';
import './vm/index.ts';

export { registeredRuntimes } from './registry.ts';
