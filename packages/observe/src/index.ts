// Public API of @swarm/observe: the dashboard, metrics and tracing set-up.
export {};
