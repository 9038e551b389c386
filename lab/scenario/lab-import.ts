/**
 * Makes `import ... from 'tcp-limits-lab'` in a scenario file anywhere resolve to the lab that runs it (as
 * vitest's config files find vitest), whatever node_modules holds: a scenario folder's own copy of another
 * version would define scenarios this lab cannot run (or define nothing at all). A .ts file outside an ESM
 * package is compiled as CommonJS, so both resolvers learn the name: ESM through a hook, CommonJS here.
 */
import Module, { register } from 'node:module';
import { fileURLToPath } from 'node:url';

export const LAB_PACKAGE = 'tcp-limits-lab';
const LAB_INDEX = new URL('../index.ts', import.meta.url);

let registered = false;

export function resolveLabImports(): void {
  if (registered) return;
  registered = true;
  register('./lab-import.mjs', import.meta.url, { data: { labIndex: LAB_INDEX.href } });
  const cjs = Module as unknown as { _resolveFilename(request: string, ...rest: unknown[]): string };
  const resolveFilename = cjs._resolveFilename;
  cjs._resolveFilename = function (request: string, ...rest: unknown[]) {
    return resolveFilename.call(this, request === LAB_PACKAGE ? fileURLToPath(LAB_INDEX) : request, ...rest);
  };
}
