import { SwarmError } from '@swarm/core';

/** A request the dashboard cannot answer as asked (a count that is no number, an id that is no stream id): 400. */
export class DashboardRequestError extends SwarmError<'SWARM_DASHBOARD_BAD_REQUEST'> {
  constructor(message: string) {
    super('SWARM_DASHBOARD_BAD_REQUEST', message);
  }
}

/** A dashboard on an address other machines reach, without a token: it refuses to start. */
export class DashboardTokenRequiredError extends SwarmError<'SWARM_DASHBOARD_TOKEN_REQUIRED'> {
  constructor(host: string) {
    super(
      'SWARM_DASHBOARD_TOKEN_REQUIRED',
      `--host ${host} is reachable from other machines: set --token <secret> (or $SWARM_DASHBOARD_TOKEN) so every request must carry it`,
    );
  }
}

/** A token that is empty (or only spaces): `?token=` alone would open the dashboard. */
export class DashboardTokenEmptyError extends SwarmError<'SWARM_DASHBOARD_TOKEN_EMPTY'> {
  constructor() {
    super(
      'SWARM_DASHBOARD_TOKEN_EMPTY',
      'the dashboard token is empty: give a secret (--token <secret> or $SWARM_DASHBOARD_TOKEN), or no token on loopback',
    );
  }
}
