/**
 * @module controller/translator/kong-consumer
 * KongConsumer (configuration.konghq.com/v1) + credential Secrets → Kong consumers with nested
 * credentials, following KIC's `FillConsumersAndCredentials`: a missing, unlabelled, unknown or
 * incomplete credential Secret drops that credential only; credentials that collide on a unique
 * key (key-auth key, basic-auth/hmac-auth username, jwt key, oauth2 client_id) remove every
 * consumer involved, with a failure on each Secret and each consumer.
 */

import type { Store } from '../store/store.ts';
import { GK, type K8sObject } from '../store/objects.ts';
import { CREDENTIAL_LABEL } from '../store/secrets.ts';
import { buildCredential, SUPPORTED_CREDENTIAL_TYPES } from './credentials.ts';
import type { FailureCollector } from './failures.ts';
import { arr, str } from './fields.ts';
import { objectMatchesClass, type IngressClassContext } from './ingress-class.ts';
import { tagsFor } from './tags.ts';

/** ConsumerDraft is a Kong consumer with its nested credentials and source object. */
export interface ConsumerDraft {
  source: K8sObject;
  entity: Record<string, unknown>;
  /** Identifier used by plugin relations: username, else custom_id. */
  identifier: string;
}

/** translateConsumers builds consumers from every KongConsumer of this controller's class. */
export function translateConsumers(store: Store, classCtx: IngressClassContext, failures: FailureCollector): ConsumerDraft[] {
  const index = new Map<string, ConsumerDraft>();
  const conflicts = new Map<string, { secret: K8sObject; consumer: K8sObject; key: string }[]>();

  for (const consumer of store.list(GK.KongConsumer)) {
    if (consumer.apiVersion !== 'configuration.konghq.com/v1' || !objectMatchesClass(consumer, classCtx)) continue;
    const ns = consumer.metadata.namespace ?? 'default';
    const username = str(consumer['username']);
    const customId = str(consumer['custom_id']);
    if (!username && !customId) {
      failures.push('no username or custom_id specified', consumer);
      continue;
    }
    const entity: Record<string, unknown> = {};
    if (username) entity['username'] = username;
    if (customId) entity['custom_id'] = customId;
    entity['tags'] = tagsFor(consumer);
    const key = `${ns}/${consumer.metadata.name}`;

    for (const g of arr(consumer['consumerGroups'])) {
      const group = str(g);
      if (group && !store.get(GK.KongConsumerGroup, ns, group)) {
        failures.push(`nonexistent consumer group: "KongConsumerGroup ${ns}/${group} not found"`, consumer);
      }
    }

    for (const c of arr(consumer['credentials'])) {
      const credName = str(c);
      if (!credName) continue;
      const fail = (message: string) => failures.push(`credential "${credName}" failure: ${message}`, consumer);
      const secret = store.get(GK.Secret, ns, credName);
      if (!secret) {
        fail(`Failed to fetch secret: Secret ${ns}/${credName} not found`);
        continue;
      }
      const labels = secret.metadata.labels ?? {};
      const credType = labels[CREDENTIAL_LABEL] ?? '';
      if (!Object.hasOwn(labels, CREDENTIAL_LABEL)) {
        fail(`could not load credential from Secret: Secret ${ns}/${credName} used as credential, but lacks ${CREDENTIAL_LABEL} label`);
      }
      if (!SUPPORTED_CREDENTIAL_TYPES.has(credType)) {
        fail(`failed to provision credential: unsupported credential type: "${credType}"`);
        continue;
      }
      const built = buildCredential(secret, credType, tagsFor(secret));
      for (const w of built.warnings) fail(w);
      if (!built.credential) {
        fail(`failed to provision credential: ${built.error ?? 'unknown error'}`);
        continue;
      }
      const list = (entity[built.credential.key] as Record<string, unknown>[] | undefined) ?? [];
      list.push(built.credential.entity);
      entity[built.credential.key] = list;
      if (built.credential.unique) {
        const ckey = `${built.credential.unique.index}\u0000${built.credential.unique.value}`;
        const entries = conflicts.get(ckey) ?? [];
        entries.push({ secret, consumer, key });
        conflicts.set(ckey, entries);
      }
    }
    index.set(key, { source: consumer, entity, identifier: username ?? customId ?? '' });
  }

  for (const [ckey, entries] of conflicts) {
    if (entries.length < 2) continue;
    const indexName = ckey.slice(0, ckey.indexOf('\u0000'));
    const message = `conflict detected in "${indexName}" index`;
    for (const e of entries) {
      failures.push(`Secret has conflicting credential: ${message}`, e.secret);
      if (!index.has(e.key)) continue;
      failures.push(`Consumer has conflicting credentials: ${message}`, e.consumer);
      index.delete(e.key);
    }
  }
  return [...index.values()];
}
