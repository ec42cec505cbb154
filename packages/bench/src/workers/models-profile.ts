/**
 * With BENCH_CPU_PROFILE=<dir>, a model benchmark process records a CPU profile from its start to
 * its stop and writes it there (`<name>-<pid>.cpuprofile`, for Chrome DevTools or speedscope): how
 * RESULTS.md says where a worker's time goes. Node 20 refuses --cpu-prof in NODE_OPTIONS.
 */
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';

/** Starts profiling if asked; the function returned writes the profile (a no-op when not asked). */
export async function profileIfAsked(name: string): Promise<() => Promise<void>> {
  const dir = process.env.BENCH_CPU_PROFILE;
  if (!dir) return async () => {};
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return async () => {
    const { profile } = await session.post('Profiler.stop');
    await writeFile(join(dir, `${name}-${process.pid}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
  };
}
