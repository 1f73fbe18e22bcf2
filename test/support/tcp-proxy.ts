import net from 'node:net';

/**
 * A TCP proxy on loopback in front of a real server (PostgreSQL, Temporal), to make that server unavailable to one
 * process while the others keep using it:
 * - `silent`: connections are accepted and what is sent is swallowed, as with a hung server (queries never answer);
 * - `refusing`: every connection is cut at once, as with a server that is down (errors come fast);
 * - `open`: bytes flow both ways.
 * Going `refusing` cuts the live connections; going `silent` keeps them (their clients wait); leaving `silent` cuts
 * them (what they sent meanwhile is lost), so clients reconnect to the new mode.
 */
export class TcpProxy {
  mode: 'open' | 'silent' | 'refusing' = 'open';
  private readonly sockets = new Set<net.Socket>();
  private server: net.Server | null = null;
  address = '';
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  static to(hostPort: string): TcpProxy {
    const [host, port] = hostPort.split(':');
    return new TcpProxy({ host, port: Number(port) });
  }

  async start(): Promise<this> {
    this.server = net.createServer((client) => {
      if (this.mode === 'refusing') return void client.destroy();
      const upstream = net.connect(this.target.port, this.target.host);
      this.sockets.add(client).add(upstream);
      client.on('data', (d) => this.mode === 'open' && upstream.write(d));
      upstream.on('data', (d) => this.mode === 'open' && client.write(d));
      const close = () => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('error', close).on('close', close);
      upstream.on('error', close).on('close', close);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
    this.address = `127.0.0.1:${this.port}`;
    return this;
  }

  /** A PostgreSQL URL through this proxy, from one to the real server. */
  postgresUrl(url: string): string {
    const u = new URL(url);
    u.host = this.address;
    return u.toString();
  }

  set(mode: TcpProxy['mode']): void {
    const was = this.mode;
    this.mode = mode;
    if (mode === 'refusing' || (was === 'silent' && mode !== 'silent')) for (const s of this.sockets) s.destroy();
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}
