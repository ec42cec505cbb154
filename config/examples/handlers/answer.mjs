/**
 * A module handler: it receives only the task and a loader for its shard's context, and returns
 * a finding. Nothing it computes survives the call.
 */
export default async function answer({ task, context }) {
  const text = await context();
  const keyword = String(task.data?.keyword ?? '').toLowerCase();
  const line = text.split('\n').find((l) => l.toLowerCase().includes(keyword));
  if (!line) return { summary: `no line mentions "${keyword}"`, data: { found: false } };
  return { summary: line.trim(), data: { found: true, question: task.description } };
}
