import { randomUUID } from 'node:crypto';
import { type Bus, type Finding, InvalidTaskError, type JsonValue, SwarmError, type Task } from '@swarm/core';
import { filter, type Subscription } from 'rxjs';

/** The task type of help requests: every swarm has one assist queue. */
export const ASSIST_TYPE = 'swarm.assist';
/** The type of the finding that records a help request. */
export const ASSIST_REQUEST_TYPE = 'swarm.assist.request';

export interface AssistRequest {
  description?: string;
  data?: JsonValue;
}

export interface AskPeersOptions {
  /** How long to wait for an answer, in ms; then AssistTimeoutError. */
  timeout: number;
}

/** No peer answered in time. Catch it to escalate, fail, or carry on without help. */
export class AssistTimeoutError extends SwarmError<'SWARM_ASSIST_TIMEOUT'> {
  constructor(
    readonly requestId: string,
    readonly timeoutMs: number,
  ) {
    super('SWARM_ASSIST_TIMEOUT', `no peer answered help request ${requestId} within ${timeoutMs} ms`);
  }
}

/**
 * Posts a help request to the swarm's assist queue and waits for the first answer. The request
 * is a task like any other (lease, retries, dead letter) with the asking task as its parent and a
 * deadline at the timeout, after which a worker that claims it records it as expired unrun. The
 * request and the answer are both findings whose parent is the asking task.
 */
export async function askPeers(
  bus: Bus,
  asker: Task,
  request: AssistRequest | string,
  options: AskPeersOptions,
  signal: AbortSignal | undefined,
  /** The asking worker's consumer name, recorded on the request finding. */
  worker = '',
): Promise<Finding> {
  const { description = '', data = null } = typeof request === 'string' ? { description: request } : request;
  const timeoutMs = options?.timeout;
  if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0)
    throw new InvalidTaskError('askPeers needs { timeout } in milliseconds');
  signal?.throwIfAborted();
  const id = randomUUID();
  // Read from the newest finding now: the answer can only come after it.
  const after = await bus.lastFindingId(asker.swarm);
  signal?.throwIfAborted();
  let subscription: Subscription | undefined;
  let timer: ReturnType<Bus['clock']['setTimeout']> | undefined;
  let onAbort: (() => void) | undefined;
  const outcome = new Promise<Finding>((resolve, reject) => {
    subscription = bus
      .findings$(asker.swarm, { from: after })
      // An "expired" record is not an answer (the helper's clock ran ahead of ours): keep waiting.
      .pipe(filter((f) => f.taskId === id && f.type === ASSIST_TYPE && !f.tags.includes('expired')))
      .subscribe({ next: resolve, error: reject });
    timer = bus.clock.setTimeout(() => reject(new AssistTimeoutError(id, timeoutMs)), timeoutMs);
    if (signal) {
      onAbort = () => reject(signal.reason);
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    }
  });
  // Settles while the request is still being posted, at times: handled by the await below.
  outcome.catch(() => {});
  try {
    await bus.post(asker.swarm, ASSIST_TYPE, {
      id,
      description,
      data,
      parent: asker.id,
      context: asker.context,
      deadline: Math.ceil(bus.clock.now() + timeoutMs),
    });
    await bus.publish(asker.swarm, {
      type: ASSIST_REQUEST_TYPE,
      summary: `task ${asker.id} asks for help: ${description}`.slice(0, 2_000),
      data: { request: id, description, data },
      parent: asker.id,
      workerId: worker,
      tags: ['assist', 'request'],
      contextVersion: asker.context,
    });
    return await outcome;
  } finally {
    subscription?.unsubscribe();
    if (timer) bus.clock.clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}
