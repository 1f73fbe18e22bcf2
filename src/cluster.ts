/**
 * `npm run cluster`: the production shape on this machine — PostgreSQL (embedded unless DATABASE_URL),
 * the real Temporal server on it with SQL visibility, the Temporal UI, two workers and two APIs.
 * Ctrl-C / SIGTERM stops everything it started, in reverse order, also while it is still starting.
 */
import { ConfigError, loadConfig } from './config';
import { clusterBanner, startCluster } from './dev/cluster';
import { Stops } from './dev/stops';

async function main(): Promise<void> {
  const say = (line: string) => console.log(line);
  const stops = new Stops(say);
  let running = false;
  let signalled = false;
  const onSignal = () => {
    if (signalled) return;
    signalled = true;
    say('\nStopping the cluster…');
    if (running) void stops.run().then(() => process.exit(0));
    else stops.requested = true; // start-up notices at its next step, stops what it started, and we exit below
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);

  try {
    const config = loadConfig();
    const cluster = await startCluster(config, say, stops);
    running = true;
    for (const line of clusterBanner(cluster, config)) say(line);
    // A worker or API that dies is reported, not restarted: the other replica carries on (that is the point).
    for (const node of [...cluster.apis, ...cluster.workers]) {
      void node.process.exited.then((code) => {
        if (!signalled) say(`${node.name} (pid ${node.pid}) exited (${code ?? node.process.child.signalCode}); log ${node.process.logFile}`);
      });
    }
  } catch (err) {
    if (signalled) process.exit(0);
    console.error(err instanceof ConfigError || err instanceof Error ? err.message : err);
    process.exit(1);
  }
}

void main();
