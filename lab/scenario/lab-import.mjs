// A module-resolution hook: `import ... from 'tcp-limits-lab'` in a scenario file anywhere resolves to the
// lab that runs it (as vitest's config files find vitest). Where Node finds the name itself (inside the
// lab's own package, or a node_modules that holds it), that wins.
let labIndex;

export function initialize(data) {
  labIndex = data.labIndex;
}

export async function resolve(specifier, context, next) {
  if (specifier !== 'tcp-limits-lab') return next(specifier, context);
  try {
    return await next(specifier, context);
  } catch {
    return next(labIndex, context);
  }
}
