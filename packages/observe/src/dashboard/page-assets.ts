import { readFileSync } from 'node:fs';
import type { Context } from 'hono';

const TYPES = {
  'index.html': 'text/html; charset=utf-8',
  'dashboard.js': 'text/javascript; charset=utf-8',
  'dashboard.css': 'text/css; charset=utf-8',
} as const;

export type PageAsset = keyof typeof TYPES;

/**
 * Nothing inline and nothing from elsewhere: a finding's text that slipped past escaping still
 * could not run a script, load one, or send data to another origin.
 */
const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * The page is three plain files, no build step: they sit in dashboard-page/ beside this module,
 * and the CLI's build copies them next to its bundle, so the same URL finds them in both.
 */
export function pageAssets() {
  const dir = new URL('./dashboard-page/', import.meta.url);
  const files = new Map<PageAsset, string>();
  for (const name of Object.keys(TYPES) as PageAsset[])
    files.set(name, readFileSync(new URL(name, dir), 'utf8'));
  return {
    respond(c: Context, name: PageAsset): Response {
      return c.body(files.get(name) ?? '', 200, {
        'content-type': TYPES[name],
        'content-security-policy': CONTENT_SECURITY_POLICY,
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
      });
    },
  };
}
