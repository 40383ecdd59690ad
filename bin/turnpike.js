#!/usr/bin/env node
// Turnpike's command line. The sources are TypeScript run through tsx (Node 20 cannot strip
// types itself); workers forked by node:cluster re-enter here and take the worker path.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
await main(process.argv);
