/**
 * @module controller/translator/annotations
 * The `konghq.com/*` annotation keys KIC reads and the small parsers they share. Lists are split on
 * `,`, trimmed, empties dropped (KIC `extractCommaDelimitedStrings`).
 */

/** ANN holds every annotation key the translator reads. */
export const ANN = {
  ingressClass: 'kubernetes.io/ingress.class',
  plugins: 'konghq.com/plugins',
  tags: 'konghq.com/tags',
  // route level
  stripPath: 'konghq.com/strip-path',
  preserveHost: 'konghq.com/preserve-host',
  protocols: 'konghq.com/protocols',
  methods: 'konghq.com/methods',
  headersPrefix: 'konghq.com/headers.',
  headersSeparator: 'konghq.com/headers-separator',
  hostAliases: 'konghq.com/host-aliases',
  snis: 'konghq.com/snis',
  regexPriority: 'konghq.com/regex-priority',
  regexPrefix: 'konghq.com/regex-prefix',
  httpsRedirectStatusCode: 'konghq.com/https-redirect-status-code',
  forceSSLRedirect: 'ingress.kubernetes.io/force-ssl-redirect',
  requestBuffering: 'konghq.com/request-buffering',
  responseBuffering: 'konghq.com/response-buffering',
  pathHandling: 'konghq.com/path-handling',
  rewrite: 'konghq.com/rewrite',
  // service level
  protocol: 'konghq.com/protocol',
  path: 'konghq.com/path',
  connectTimeout: 'konghq.com/connect-timeout',
  readTimeout: 'konghq.com/read-timeout',
  writeTimeout: 'konghq.com/write-timeout',
  retries: 'konghq.com/retries',
  hostHeader: 'konghq.com/host-header',
  upstreamPolicy: 'konghq.com/upstream-policy',
  override: 'konghq.com/override',
  clientCert: 'konghq.com/client-cert',
  tlsVerify: 'konghq.com/tls-verify',
  tlsVerifyDepth: 'konghq.com/tls-verify-depth',
  caCertificatesSecrets: 'konghq.com/ca-certificates-secrets',
  caCertificatesConfigMaps: 'konghq.com/ca-certificates-configmaps',
  serviceUpstream: 'ingress.kubernetes.io/service-upstream',
  // gateway api
  gatewayClassUnmanaged: 'konghq.com/gatewayclass-unmanaged',
  defaultIngressClass: 'ingressclass.kubernetes.io/is-default-class',
} as const;

/** csv splits a comma-separated annotation value (trimmed, empties dropped). */
export function csv(value: string | undefined, map?: (s: string) => string): string[] {
  if (value === undefined || value.trim() === '') return [];
  const out: string[] = [];
  for (const part of value.split(',')) {
    let s = part.trim();
    if (s === '') continue;
    if (map) s = map(s);
    out.push(s);
  }
  return out;
}

/** PluginRef is one entry of `konghq.com/plugins`: `name` or `namespace:name`. */
export interface PluginRef {
  namespace?: string;
  name: string;
}

/** pluginRefs parses `konghq.com/plugins`. */
export function pluginRefs(annotations: Record<string, string> | undefined): PluginRef[] {
  return csv(annotations?.[ANN.plugins]).map((entry) => {
    const colon = entry.indexOf(':');
    if (colon < 0) return { name: entry };
    return { namespace: entry.slice(0, colon), name: entry.slice(colon + 1) };
  });
}

/** VALID_PROTOCOLS are the protocol names KIC accepts (util.ValidateProtocol, plus empty). */
export const VALID_PROTOCOLS: ReadonlySet<string> = new Set(['', 'http', 'https', 'grpc', 'grpcs', 'ws', 'wss', 'tls', 'tcp', 'tls_passthrough']);
