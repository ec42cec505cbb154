/** Tracing's set-up, loaded only when the environment asks for traces (see tracingRequested). */
export { startTracing, type Tracing, type TracingOptions } from './start-tracing';
export { TracingConfigError } from './tracing-config-error';
export { tracingRequested } from './tracing-requested';
