import { ChildProcess, execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { waitFor } from './wait';

export const EXAMPLES_DIR = path.resolve(__dirname, '..', '..', 'examples', 'receivers');

/**
 * A program on PATH or at one of the usual install places. Missing, it is an error naming what to install: the
 * receiver examples are documented as working in every language, so a test that cannot run one fails, never skips.
 */
export function requireTool(name: string, fallbacks: string[], purpose: string): string {
  const onPath = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean).map((dir) => path.join(dir, name));
  const found = [...onPath, ...fallbacks].find((file) => {
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return fs.statSync(file).isFile();
    } catch {
      return false;
    }
  });
  if (!found) throw new Error(`${name} is needed to ${purpose}: install it or put it on PATH (looked on PATH and in ${fallbacks.join(', ')})`);
  return found;
}

/** examples/receivers/go built into `outDir` (standard library only: no module, nothing downloaded). */
export async function buildGoReceiver(goBinary: string, outDir: string): Promise<string> {
  const out = path.join(outDir, 'go-receiver');
  await promisify(execFile)(goBinary, ['build', '-buildvcs=false', '-o', out, 'main.go'], {
    cwd: path.join(EXAMPLES_DIR, 'go'),
    env: { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '' },
  });
  return out;
}

export type ReceiverLine = Record<string, string | number>;

/** One example receiver as a real process on a free loopback port; its stdout is one JSON line per request. */
export class ExampleReceiver {
  private child!: ChildProcess;
  private stdout = '';
  private stderr = '';
  url = '';

  constructor(private readonly command: string, private readonly args: string[]) {}

  async start(env: { WEBHOOK_SECRET: string; WEBHOOK_SCHEME: 'cloudkeep' | 'standard' }): Promise<this> {
    this.child = spawn(this.command, this.args, { env: { ...process.env, ...env, PORT: '0', HOST: '127.0.0.1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d) => (this.stdout += d));
    this.child.stderr!.on('data', (d) => (this.stderr += d));
    const listening = await waitFor(() => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) throw new Error(`exited: ${this.stderr}`);
      return this.lines().find((line) => 'listening' in line);
    }, `${this.command} ${this.args.join(' ')} to listen`, 60_000);
    expect(listening).toEqual({ listening: expect.any(Number), scheme: env.WEBHOOK_SCHEME });
    this.url = `http://127.0.0.1:${listening.listening}`;
    return this;
  }

  /** Every complete line printed so far, parsed. */
  lines(): ReceiverLine[] {
    return this.stdout.split('\n').slice(0, -1).map((line) => JSON.parse(line));
  }

  /**
   * What the receiver printed as accepted, in order, once it has printed `count` of them (its stdout and its
   * HTTP answers travel separately: an answer can arrive before the line).
   */
  async accepted(count: number): Promise<ReceiverLine[]> {
    const accepted = () => this.lines().filter((line) => 'accepted' in line);
    await waitFor(() => accepted().length >= count, `${count} accepted lines from the receiver`);
    return accepted();
  }

  /** A request straight to the receiver: status and the JSON it answered. */
  async post(headers: Record<string, string>, body: string): Promise<{ status: number; body: ReceiverLine }> {
    const res = await fetch(this.url + '/hooks/cloudkeep', { method: 'POST', headers, body });
    return { status: res.status, body: (await res.json()) as ReceiverLine };
  }

  async stop(): Promise<void> {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }
}

export const tempDir = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), prefix));
