import { MetricsAddressError } from './errors';

/** `9464` → every interface (as Prometheus exporters listen); `127.0.0.1:9464`, `[::1]:9464` → that one. */
export function parseMetricsAddress(value: string): { port: number; host?: string } {
  const match = /^(?:(\[[^\]]+\]|[^:]+):)?(\d{1,5})$/.exec(value.trim());
  const port = Number(match?.[2]);
  if (!match || !Number.isInteger(port) || port > 65_535) throw new MetricsAddressError(value);
  const host = match[1]?.replace(/^\[|\]$/g, '');
  return host ? { port, host } : { port };
}
