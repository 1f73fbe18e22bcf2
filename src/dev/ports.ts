import type { ChildProcess } from 'node:child_process';
import net from 'node:net';

/** A port nothing listens on right now (the OS picks it), on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/**
 * A free port below `limit`. Temporal stores membership ports as a PostgreSQL smallint, so they must be
 * under 32768, where the OS never hands out ephemeral ports: candidates are tried at random instead.
 */
export async function freePortBelow(limit: number, from = 20_000): Promise<number> {
  for (let tries = 0; tries < 200; tries++) {
    const port = from + Math.floor(Math.random() * (limit - from));
    const free = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error(`No free port between ${from} and ${limit}`);
}

export function isListening(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => (socket.destroy(), resolve(true)));
    socket.on('error', () => resolve(false));
  });
}

/** Waits until something listens on 127.0.0.1:`port`; fails early if `child` (named `name`) exits first. */
export async function waitForListening(port: number, options: { deadlineMs: number; child?: ChildProcess; name: string }): Promise<void> {
  const until = Date.now() + options.deadlineMs;
  for (;;) {
    const { child } = options;
    if (child && (child.exitCode !== null || child.signalCode !== null)) throw new Error(`${options.name} exited (${child.exitCode ?? child.signalCode})`);
    if (await isListening(port)) return;
    if (Date.now() > until) throw new Error(`${options.name}: nothing listened on 127.0.0.1:${port} within ${options.deadlineMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
