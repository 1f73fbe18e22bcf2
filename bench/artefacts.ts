/**
 * The bench runs compiled JavaScript, as the image does (`node dist/worker.js`), not TypeScript through tsx:
 * tsx's module hooks run on a loader thread of their own, which adds ~40 MiB of RSS to every process
 * (docs/performance.md, "Memory"). Built once per bench run under `.bench-build/` (inside the project, so the
 * compiled files resolve node_modules as the project's own do).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { build } from '../scripts/build';

const ROOT = path.resolve(__dirname, '..');
const OUT = path.join(ROOT, '.bench-build');

export interface Artefacts {
  /** `npm run build`'s output: main.js, worker.js, api/server.js, the prebuilt workflow bundle. */
  app: string;
  /** The Temporal floor's process, compiled with the sources it imports. */
  floorProcess: string;
}

let built: Promise<Artefacts> | null = null;

export function benchArtefacts(log: (line: string) => void): Promise<Artefacts> {
  built ??= (async () => {
    log('Building the artefacts (npm run build, and the floor process)');
    const app = path.join(OUT, 'dist');
    await build(app);
    const floorOut = path.join(OUT, 'floor');
    fs.rmSync(floorOut, { recursive: true, force: true });
    fs.mkdirSync(floorOut, { recursive: true });
    const tsconfig = path.join(floorOut, 'tsconfig.json');
    fs.writeFileSync(
      tsconfig,
      JSON.stringify({
        extends: path.join(ROOT, 'tsconfig.json'),
        compilerOptions: { rootDir: ROOT, outDir: floorOut, types: ['node'] },
        files: [path.join(ROOT, 'bench/floor/process.ts')],
        include: [],
      }),
    );
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', tsconfig], { stdio: 'inherit' });
    return { app, floorProcess: path.join(floorOut, 'bench/floor/process.js') };
  })();
  return built;
}
