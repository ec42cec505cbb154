import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { MiddlewareHandler } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { DashboardTokenEmptyError } from './errors';

/** The cookie a `?token=` visit sets, so the page's own fetches and EventSource carry the token. */
export const SESSION_COOKIE = 'swarm_dashboard';
/** Every request that changes something carries it: a cross-site form or fetch cannot without a preflight we never answer. */
export const ACTION_HEADER = 'x-swarm-dashboard';

export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  if (bare === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  // A Host header's IPv4-mapped address comes back from URL parsing in hex: ::ffff:127.0.0.1 is ::ffff:7f00:1.
  return (
    bare === '::1' || bare.startsWith('::ffff:127.') || /^::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}$/i.test(bare)
  );
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Equal-length digests, so neither the token's content nor its length leaks by timing. */
function matches(given: string | undefined, expected: Buffer): boolean {
  return timingSafeEqual(digest(given ?? ''), expected) && given !== undefined;
}

/**
 * The cookie holds a digest of the token, not the token: a cookie that leaks (a browser's
 * storage, a shared profile) is not the secret a script or another dashboard takes.
 */
function sessionValue(token: string): string {
  return createHash('sha256').update(`swarm-dashboard-session:${token}`).digest('hex');
}

function hostnameOf(hostHeader: string | undefined): string | undefined {
  if (!hostHeader) return undefined;
  try {
    return new URL(`http://${hostHeader}`).hostname;
  } catch {
    return undefined;
  }
}

export interface AccessOptions {
  /** The address the server listens on: on loopback, a request must also name this machine in Host. */
  host: string;
  token: string | undefined;
}

/**
 * Who may look: with a token, each request carries it as `Authorization: Bearer`, as the cookie a
 * `?token=` visit set, or as `?token=` itself (the page then redirects to drop it from the address
 * bar). On loopback, a Host naming another machine is refused (DNS rebinding: a web page whose name
 * resolves to 127.0.0.1 still sends its own Host). Requests that change something need ACTION_HEADER.
 */
export function accessControl(options: AccessOptions): MiddlewareHandler {
  const loopback = isLoopback(options.host);
  const token = options.token;
  // An empty token would be matched by an empty `?token=`: refused rather than taken as a secret.
  if (token !== undefined && token.trim() === '') throw new DashboardTokenEmptyError();
  const tokenDigest = token === undefined ? undefined : digest(token);
  const cookieDigest = token === undefined ? undefined : digest(sessionValue(token));
  return async (c, next) => {
    if (loopback) {
      const hostname = hostnameOf(c.req.header('host'));
      if (!(hostname !== undefined && isLoopback(hostname)))
        return c.json({ error: 'forbidden: Host must name this machine' }, 403);
    }
    if (token !== undefined && tokenDigest && cookieDigest) {
      const bearer = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header('authorization') ?? '')?.[1];
      const query = c.req.query('token');
      const byHeader = matches(bearer, tokenDigest);
      const byQuery = matches(query, tokenDigest);
      const byCookie = matches(getCookie(c, SESSION_COOKIE), cookieDigest);
      if (!byHeader && !byQuery && !byCookie)
        return c.json(
          {
            error:
              'unauthorized: send Authorization: Bearer <token>, or open the page once with ?token=<token>',
          },
          401,
          { 'www-authenticate': 'Bearer realm="swarm dashboard"' },
        );
      if (byQuery) {
        setCookie(c, SESSION_COOKIE, sessionValue(token), {
          httpOnly: true,
          sameSite: 'Strict',
          path: '/',
        });
        if (c.req.method === 'GET' && !c.req.path.startsWith('/api/') && c.req.path !== '/metrics') {
          const url = new URL(c.req.url);
          url.searchParams.delete('token');
          return c.redirect(`${url.pathname}${url.search}`, 303);
        }
      }
    }
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD' && c.req.header(ACTION_HEADER) === undefined)
      return c.json(
        { error: `refused: a request that changes something needs the ${ACTION_HEADER} header` },
        403,
      );
    await next();
    c.header('cache-control', 'no-store');
  };
}
