/**
 * docs/receiving.md quotes the example receivers whole: every quoted block must equal its file, and every example
 * must be quoted, so the page and the receivers the tests run never drift apart.
 */
import fs from 'node:fs';
import path from 'node:path';
import { requireTool } from './support/example-receiver';

const ROOT = path.resolve(__dirname, '..');
const page = fs.readFileSync(path.join(ROOT, 'docs', 'receiving.md'), 'utf8');

/** `<!-- quoted from <file> -->` followed by a fenced block. */
const quotes = [...page.matchAll(/<!-- quoted from (\S+) -->\n```\w*\n([\s\S]*?)```\n/g)].map(([, file, code]) => ({ file, code }));

it('quotes every example receiver (its source files) exactly as it is', () => {
  const examples = fs
    .readdirSync(path.join(ROOT, 'examples', 'receivers'), { recursive: true, encoding: 'utf8' })
    .filter((entry) => /\.(mjs|py|go)$/.test(entry))
    .map((entry) => path.posix.join('examples', 'receivers', entry.split(path.sep).join('/')))
    .sort();
  expect(examples).toEqual(['examples/receivers/go/main.go', 'examples/receivers/node/receiver.mjs', 'examples/receivers/python/receiver.py']);
  expect(quotes.map((q) => q.file).sort()).toEqual(examples);
  for (const { file, code } of quotes) expect({ file, code }).toEqual({ file, code: fs.readFileSync(path.join(ROOT, file), 'utf8') });
});

it('is linked from the README', () => {
  expect(fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8')).toContain('](docs/receiving.md)');
});

it('fails, naming what to install, when a language the receivers need is missing', () => {
  expect(() => requireTool('no-such-language-ckw', ['/nonexistent/no-such-language-ckw'], 'run examples/receivers/x')).toThrow(
    'no-such-language-ckw is needed to run examples/receivers/x: install it or put it on PATH',
  );
});
