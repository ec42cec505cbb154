import { ASSIST_TYPE, type Handler } from '@swarm/worker';

/** Reviews a change; asks the swarm for a second opinion, and gives one when a peer asks. */
export const review: Handler = async (ctx) => {
  if (ctx.task.type === ASSIST_TYPE) return `second opinion: ${ctx.task.description} looks fine`;
  try {
    const answer = await ctx.askPeers(
      { description: `is ${ctx.task.description} safe?`, data: ctx.task.data },
      { timeout: 5_000 },
    );
    return { summary: `reviewed with help: ${answer.summary}`, data: { helper: answer.workerId } };
  } catch (error) {
    // AssistTimeoutError, told by its code: the swarm CLI runs its own copy of @swarm/worker, so
    // the class this module imports is not the one that was thrown.
    if ((error as { code?: unknown }).code === 'SWARM_ASSIST_TIMEOUT')
      return { summary: 'reviewed alone', tags: ['unassisted'] };
    throw error;
  }
};
