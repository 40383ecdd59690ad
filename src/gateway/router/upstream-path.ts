/**
 * @module gateway/router/upstream-path
 * The path sent upstream, by Kong's v0 rules (the only ones its default router uses): strip the
 * matched prefix (or whole regex match) when `strip_path` is on, drop `./` and `../` left at the
 * start of what remains, then join with the service's path without doubling or losing slashes.
 */

export interface UpstreamPath {
  path: string;
  /** What strip_path removed, for X-Forwarded-Prefix (null when nothing but `/` was removed). */
  strippedPrefix: string | null;
}

function sanitizePostfix(p: string): string {
  let s = p;
  for (;;) {
    if (s.startsWith('./')) s = s.slice(2);
    else if (s.startsWith('../')) s = s.slice(3);
    else if (s === '.' || s === '..') s = '';
    else return s;
  }
}

export function buildUpstreamPath(servicePath: string | null, route: { matched: string | null; stripPath: boolean }, requestPath: string): UpstreamPath {
  const base = servicePath || '/';
  const endsWithSlash = requestPath.endsWith('/');
  if (route.stripPath && route.matched !== null) {
    const postfix = sanitizePostfix(requestPath.slice(route.matched.length));
    const stripped = route.matched !== '/' && route.matched !== '' ? route.matched : null;
    let path: string;
    if (base.endsWith('/')) {
      if (postfix === '' || postfix === '/') {
        path = base === '/' ? '/' : (endsWithSlash ? base : base.slice(0, -1));
      } else {
        path = base + (postfix.startsWith('/') ? postfix.slice(1) : postfix);
      }
    } else if (postfix === '') {
      path = endsWithSlash && requestPath !== '/' ? `${base}/` : base;
    } else {
      path = postfix.startsWith('/') ? base + postfix : `${base}/${postfix}`;
    }
    return { path, strippedPrefix: stripped };
  }
  if (base.endsWith('/')) return { path: base + requestPath.slice(1), strippedPrefix: null };
  return { path: requestPath === '/' ? base : base + requestPath, strippedPrefix: null };
}
