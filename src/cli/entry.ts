/**
 * @module cli/entry
 * Where every Turnpike process starts (bin/turnpike.js through tsx, dist/turnpike.mjs in the
 * build). A worker forked by node:cluster re-runs the same file and goes straight to the worker,
 * without the command line's modules (commander, the commands' option tables).
 */
import cluster from 'node:cluster';

export async function enter(argv: string[]): Promise<void> {
  if (cluster.isWorker) {
    const { runWorker } = await import('../gateway/worker.ts');
    await runWorker(JSON.parse(process.env.TURNPIKE_WORKER_INIT!));
    return;
  }
  const { main } = await import('./main.ts');
  await main(argv);
}
