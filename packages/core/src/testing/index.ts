/** @swarm/core/testing: run an actor on the in-process bus with a clock you move. */
export { ActorTestKit, type ActorTestOptions, type PostedByActor } from './actor-test-kit';
export { aTask } from './task';
