import { createHash } from 'node:crypto';
import { assertName } from '@swarm/core';
import { aclRules, ROLES, type Role, redisCliArg } from '../acl-roles';
import type { Command } from '../command';
import { UsageError } from '../errors';

export const acl: Command = {
  name: 'acl',
  usage: 'swarm acl <swarm> --role worker|poster|reader|admin [--user <name>] [--password-env <VAR>]',
  summary:
    'print the ACL SETUSER line for a least-privilege Redis user with that role on one swarm (run it as an admin, e.g. redis-cli)',
  options: {
    role: {
      type: 'string',
      value: 'worker|poster|reader|admin',
      choices: ROLES,
      description: 'what the user may do',
    },
    user: {
      type: 'string',
      value: '<name>',
      description: 'the Redis user name',
      default: 'swarm-<swarm>-<role>',
    },
    'password-env': {
      type: 'string',
      value: '<VAR>',
      description: 'take the password from this environment variable (printed only as its SHA-256)',
      default: 'a <password> placeholder to replace',
    },
  },
  async run(input) {
    const [swarm, ...extra] = input.positionals;
    if (!swarm || extra.length > 0) throw new UsageError(`usage: ${acl.usage}`);
    assertName('swarm', swarm);
    const role = input.values.role;
    if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role))
      throw new UsageError(
        `--role must be one of ${ROLES.join(', ')}${typeof role === 'string' ? `, got ${role}` : ''}`,
      );
    const user = (input.values.user as string | undefined) ?? `swarm-${swarm}-${role}`;
    if (!/^[A-Za-z0-9_.@-]+$/.test(user))
      throw new UsageError(`--user must be letters, digits and _ . @ -, got ${user}`);
    const variable = input.values['password-env'] as string | undefined;
    let password = '><password>';
    if (variable !== undefined) {
      const secret = process.env[variable];
      if (!secret)
        throw new UsageError(`--password-env ${variable}: that environment variable is empty or not set`);
      // Redis takes a password as its SHA-256 (`#<hex>`): the line can be shown, logged and kept
      // in an ACL file without the password itself.
      password = `#${createHash('sha256').update(secret).digest('hex')}`;
    } else {
      input.out.note('replace <password> (or pass --password-env <VAR>): swarm does not invent passwords');
    }
    const rules = aclRules(swarm, role as Role, password);
    input.out.result(['ACL', 'SETUSER', user, ...rules].map(redisCliArg).join(' '), {
      swarm,
      role,
      user,
      rules,
    });
    return 0;
  },
};
