#!/usr/bin/env node
// Runs the lab's TypeScript directly (tsx), so a fresh clone needs `npm ci` and nothing else.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../lab/cli/main.ts');
const code = await main(process.argv.slice(2));
// Exit now: idle keep-alive sockets to the engine must not hold a finished command open.
process.stdout.write('', () => process.exit(code));
