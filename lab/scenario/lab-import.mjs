// A module-resolution hook: `import ... from 'tcp-limits-lab'` in a scenario file anywhere resolves to the
// lab that runs it (as vitest's config files find vitest), whatever a node_modules beside the file holds:
// another version there would define scenarios this lab cannot run. (Inside the lab's own package the name
// resolves to this same file.)
let labIndex;

export function initialize(data) {
  labIndex = data.labIndex;
}

export async function resolve(specifier, context, next) {
  return next(specifier === 'tcp-limits-lab' ? labIndex : specifier, context);
}
