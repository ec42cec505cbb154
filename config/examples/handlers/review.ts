import { ASSIST_TYPE, AssistTimeoutError, type Handler } from '@swarm/worker';

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
    if (error instanceof AssistTimeoutError) return { summary: 'reviewed alone', tags: ['unassisted'] };
    throw error;
  }
};
