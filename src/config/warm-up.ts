/**
 * @module config/warm-up
 * A synthetic config validated a few times after start, so that the first large config a user
 * posts is not also the one V8 learns the validator on. Cold, the first 10,000 services + routes
 * validated in 450–650 ms against 200–330 once warm (BENCHMARKS.md, session 12). The rounds are
 * small (~50 ms each, cold) and run one per event-loop turn: the primary keeps answering meanwhile.
 */
import type { PluginDefinition } from '../plugins/api.ts';
import { validateConfig } from './validate.ts';

/** One round's config: services with routes and plugins, consumers with credentials. */
export function warmUpConfig(round: number, plugins: ReadonlyMap<string, PluginDefinition>, size = 150): Record<string, unknown> {
  const services = [];
  const consumers = [];
  const tag = `turnpike-warm-up-${round}`;
  const scoped = plugins.has('rate-limiting');
  const keyAuth = plugins.has('key-auth');
  for (let i = 0; i < size; i++) {
    services.push({
      name: `warm-${i}`, url: `http://127.0.0.1:${1024 + i}/p${i}`, tags: [tag],
      routes: [{ name: `warm-${i}`, paths: [`/warm/${i}`], ...(i % 2 === 0 ? { methods: ['GET'], strip_path: false } : {}) }],
      plugins: scoped && i % 10 === 0 ? [{ name: 'rate-limiting', config: { minute: i + 1, policy: 'local' } }] : [],
    });
    consumers.push({ username: `warm-${i}`, tags: [tag], ...(keyAuth ? { keyauth_credentials: [{ key: `warm-key-${round}-${i}` }] } : {}) });
  }
  return {
    _format_version: '3.0', services, consumers,
    plugins: keyAuth ? [{ name: 'key-auth', config: { key_names: ['apikey'] } }] : [],
  };
}

/**
 * Validates `rounds` synthetic configs, one per turn of the event loop, while `proceed()` holds
 * (it stops the warm-up once a real config is being loaded, or the gateway stops).
 */
export function warmUpValidator(plugins: ReadonlyMap<string, PluginDefinition>, proceed: () => boolean, rounds = 6): Promise<number> {
  return new Promise((resolve) => {
    let done = 0;
    const step = () => {
      if (done >= rounds || !proceed()) return resolve(done);
      validateConfig(warmUpConfig(done, plugins), plugins);
      done++;
      setImmediate(step);
    };
    setImmediate(step);
  });
}
