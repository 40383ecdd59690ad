/**
 * @module controller/store
 * Public face of the controller's object cache: the read-only `Store`, the in-memory `ObjectStore`,
 * object keys and the Secret retention rule.
 */

export * from './objects.ts';
export * from './store.ts';
export * from './secrets.ts';
