import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** A loopback port free at the moment of asking (for a bot child to listen on). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return port;
}

/** The next IPC message of the given op from the child (or its error / exit). */
export function nextMessage<T>(child: ChildProcess, op: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: { op: string; message?: string }) => {
      if (m.op === op) done(() => resolve(m as T));
      else if (m.op === 'error') done(() => reject(new Error(m.message)));
    };
    const onExit = (code: number | null) => done(() => reject(new Error(`bot exited (${code}) while waiting for ${op}`)));
    const done = (then: () => void) => {
      child.off('message', onMessage);
      child.off('exit', onExit);
      then();
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

/**
 * The node flags `npm start` runs the bot with (package.json), so a bench measures the same process.
 * The package.json is looked for upwards from this file (it is also bundled into dist/bench/).
 */
export function startFlags(): string[] {
  for (let dir = new URL('.', import.meta.url); ; dir = new URL('..', dir)) {
    const file = new URL('package.json', dir);
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { scripts: { start: string } };
      return pkg.scripts.start.split(/\s+/).filter((a) => a.startsWith('--'));
    }
    if (dir.pathname === '/') throw new Error('no package.json above bench/');
  }
}
