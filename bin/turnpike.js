#!/usr/bin/env node
// Turnpike's command line. The sources are TypeScript run through tsx (Node 20 cannot strip
// types itself); workers forked by node:cluster re-enter here and take the worker path (src/cli/entry.ts).
import { register } from 'tsx/esm/api';

register();
const { enter } = await import('../src/cli/entry.ts');
await enter(process.argv);
