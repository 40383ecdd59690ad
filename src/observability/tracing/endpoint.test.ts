/** `--otlp-endpoint`: a base URL gets /v1/traces, a full traces URL is kept, junk is refused. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { otlpTracesUrl } from './endpoint.ts';

test('off by default; base URLs get the OTLP traces path; full URLs are kept', () => {
  assert.equal(otlpTracesUrl(undefined), null);
  assert.equal(otlpTracesUrl(''), null);
  assert.equal(otlpTracesUrl('off'), null);
  assert.equal(otlpTracesUrl('http://collector:4318'), 'http://collector:4318/v1/traces');
  assert.equal(otlpTracesUrl('http://collector:4318/'), 'http://collector:4318/v1/traces');
  assert.equal(otlpTracesUrl('https://otel.example/otlp'), 'https://otel.example/otlp/v1/traces');
  assert.equal(otlpTracesUrl('http://collector:4318/v1/traces'), 'http://collector:4318/v1/traces');
});

test('only http(s) URLs', () => {
  assert.throws(() => otlpTracesUrl('collector:4318'), /invalid --otlp-endpoint 'collector:4318': expected an http\(s\) URL/);
  assert.throws(() => otlpTracesUrl('not a url'), /invalid --otlp-endpoint/);
});
