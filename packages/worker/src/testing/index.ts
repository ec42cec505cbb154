/**
 * @swarm/worker/testing: fake model vendors for tests and benchmarks. `startFakeVendor` serves
 * Anthropic's, OpenAI's or Gemini's API on 127.0.0.1, so the AI SDK providers run unchanged,
 * pointed at it with `baseURL`, and no test touches the network.
 */
export { startFakeVendor } from './fake-vendor';
export type {
  FakeEndpoint,
  FakeReply,
  FakeRequest,
  FakeScript,
  FakeTiming,
  FakeUsage,
  FakeVendor,
  FakeVendorCounts,
  FakeVendorKind,
  FakeVendorOptions,
} from './types';
