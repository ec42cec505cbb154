import { context, trace } from '@opentelemetry/api';
import { startTaskSpan, type Task, withSpan } from '@swarm/core';
import { aTask } from '@swarm/core/testing';
import { describe, expect, it } from 'vitest';

const task = (id: string, traced: boolean): Task =>
  aTask({
    id,
    type: 't',
    ...(traced ? { trace: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } } : {}),
  });

describe('task traces with no SDK registered', () => {
  it('gives every delivery the one shared no-op span and enters no context, even for a task posted with a trace', () => {
    const span = startTaskSpan(task('a', true), 'c');
    expect(startTaskSpan(task('b', false), 'c')).toBe(span);
    expect(span.isRecording()).toBe(false);
    expect(trace.isSpanContextValid(span.spanContext())).toBe(false);
    const active = context.active();
    expect(withSpan(span, () => context.active())).toBe(active);
  });
});
