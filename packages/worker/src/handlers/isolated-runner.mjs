// Runs one task in a child process forked by isolated.ts: import the module afresh, call the
// handler once, send the result back over IPC, exit. Plain JavaScript, so it starts under any loader.
import { importModuleFile } from '@swarm/core/import-module';
import pino from 'pino';
import { pickExport } from './pick-export.mjs';

process.on('disconnect', () => process.exit(0));

process.once('message', (message) => {
  run(message).then(
    (value) => reply({ kind: 'result', value }),
    (error) => reply({ kind: 'error', message: errorMessage(error) }),
  );
});

async function run({ modulePath, exportName, task, context, contextError, log }) {
  let namespace;
  try {
    namespace = await importModuleFile(modulePath);
  } catch (error) {
    throw new Error(`cannot load handler module ${modulePath}: ${errorMessage(error)}`);
  }
  const handler = pickExport(namespace, modulePath, exportName);
  const content =
    context === undefined ? undefined : Buffer.from(context.buffer, context.byteOffset, context.byteLength);
  const contextBuffer = async () => {
    if (contextError !== undefined) throw new Error(contextError);
    if (content === undefined)
      throw new Error(`task ${task.id} has no context: the shard posted it without one`);
    return content;
  };
  const logger = pino(
    { level: log.level, base: { ...log.bindings, pid: process.pid } },
    pino.destination({ dest: 2, sync: true }),
  );
  return handler({
    task,
    context: async () => (await contextBuffer()).toString('utf8'),
    contextBuffer,
    log: logger,
    // The parent kills this process on timeout or a lost lease; nothing aborts from inside.
    signal: new AbortController().signal,
    // A child process has no bus of its own; asking peers needs isolation: none.
    askPeers: async () => {
      throw Object.assign(
        new Error('askPeers is not available with isolation: process (use isolation: none)'),
        {
          code: 'SWARM_ASSIST_UNAVAILABLE',
        },
      );
    },
  });
}

function reply(message) {
  try {
    process.send(message, () => process.exit(0));
  } catch (error) {
    const failure = {
      kind: 'error',
      message: `handler result cannot be sent to the pool: ${errorMessage(error)}`,
    };
    process.send(failure, () => process.exit(0));
  }
}

/** Mirrors toError in result.ts: whatever was thrown, a readable message. */
function errorMessage(thrown) {
  if (thrown instanceof Error) return thrown.message || thrown.name;
  if (typeof thrown === 'string') return thrown || 'handler threw an empty string';
  if (thrown === undefined || thrown === null) return `handler threw ${String(thrown)}`;
  if (typeof thrown === 'object' && typeof thrown.message === 'string' && thrown.message)
    return thrown.message;
  let text;
  try {
    text = JSON.stringify(thrown) ?? String(thrown);
  } catch {
    text = String(thrown);
  }
  return `handler threw a non-Error value: ${text.length > 200 ? `${text.slice(0, 200)}…` : text}`;
}
