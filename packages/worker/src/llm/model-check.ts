/**
 * The check a topology's loader runs on each llm pool's models (`swarm validate`, `swarm run`),
 * so that a model with no price, or no context window under `route: cheapest`, is an error at
 * its line in the file rather than at the pool's start.
 */
import { type ModelCheck, SwarmError } from '@swarm/core';
import { modelFacts } from './models';
import { priceOf } from './prices';

export const checkModel: ModelCheck = (modelId, needs, prices) => {
  try {
    priceOf(modelId, { overrides: prices });
    if (needs.window) modelFacts(modelId, prices);
    return undefined;
  } catch (error) {
    if (error instanceof SwarmError) return error.message;
    throw error;
  }
};
