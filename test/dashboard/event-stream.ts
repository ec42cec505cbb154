import { until } from '../support/until';

/** One Server-Sent Event as its fields (event, id, data, retry). */
export type ServerSentEvent = Record<string, string>;

export interface EventStream {
  readonly events: ServerSentEvent[];
  /** The `finding` events' parsed data, in the order they came. */
  findings(): { id: string; swarm: string; summary: string }[];
  /** Waits until the events seen so far satisfy `condition`. */
  waitFor(condition: (events: ServerSentEvent[]) => boolean, what: string, limitMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Reads a dashboard's event stream over real HTTP, as a browser's EventSource would. */
export async function openEventStream(url: URL, headers: Record<string, string> = {}): Promise<EventStream> {
  const controller = new AbortController();
  const response = await fetch(url, {
    headers: { accept: 'text/event-stream', ...headers },
    signal: controller.signal,
  });
  if (!response.ok || !response.body) throw new Error(`event stream answered ${response.status}`);
  const events: ServerSentEvent[] = [];
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  const reading = (async () => {
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event: ServerSentEvent = {};
        for (const line of block.split('\n')) {
          const colon = line.indexOf(':');
          if (colon > 0) event[line.slice(0, colon)] = line.slice(colon + 1).replace(/^ /, '');
        }
        if (Object.keys(event).length > 0) events.push(event);
      }
    }
  })().catch(() => {});
  return {
    events,
    findings: () => events.filter((e) => e.event === 'finding').map((e) => JSON.parse(e.data ?? '{}')),
    async waitFor(condition, what, limitMs = 20_000) {
      await until(() => condition(events), what, limitMs);
    },
    async close() {
      controller.abort();
      await reading;
    },
  };
}
