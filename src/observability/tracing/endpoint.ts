/**
 * @module observability/tracing/endpoint
 * `--otlp-endpoint`: an OTLP/HTTP collector. A base URL (`http://collector:4318`) gets the traces
 * path appended as the OpenTelemetry exporter spec says for OTEL_EXPORTER_OTLP_ENDPOINT; a URL that
 * already ends in `/v1/traces` is used as it is.
 */
export function otlpTracesUrl(value: string | undefined): string | null {
  const v = (value ?? '').trim();
  if (v === '' || v === 'off') return null;
  let url: URL;
  try { url = new URL(v); } catch { throw new Error(`invalid --otlp-endpoint '${v}': expected an http(s) URL`); }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`invalid --otlp-endpoint '${v}': expected an http(s) URL`);
  if (!url.pathname.endsWith('/v1/traces')) url.pathname = `${url.pathname.replace(/\/+$/, '')}/v1/traces`;
  return url.toString();
}
