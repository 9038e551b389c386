#!/usr/bin/env node
// Runs the lab's TypeScript directly (tsx), so a fresh clone needs `npm ci` and nothing else.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../lab/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
