import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const root = new URL('../', import.meta.url).pathname;

/** README.md, the docs and the bench's README: the pages a reader follows links between. */
function pages(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((n) => {
      const p = join(dir, n);
      return statSync(p).isDirectory() ? walk(p) : n.endsWith('.md') ? [p] : [];
    });
  return [join(root, 'README.md'), join(root, 'bench', 'README.md'), ...walk(join(root, 'docs'))];
}

/** Text outside fenced code blocks (a `[x](y)` in a code sample is not a link). */
function prose(md: string): string {
  return md
    .split(/^```.*$/m)
    .filter((_, i) => i % 2 === 0)
    .join('\n');
}

/** GitHub's anchors of a page's headings: lower case, punctuation dropped, spaces as `-`, repeats numbered. */
function anchors(md: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const [, text] of prose(md).matchAll(/^#{1,6} (.+)$/gm)) {
    const slug = text!
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    out.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return out;
}

describe('documentation links', () => {
  it('every relative link of README.md and docs/ names a file (and a heading) that exists', () => {
    const broken: string[] = [];
    let checked = 0;
    for (const page of pages()) {
      const md = readFileSync(page, 'utf8');
      for (const [, target] of prose(md).matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/i.test(target!)) continue;
        checked += 1;
        const [path, anchor] = target!.split('#') as [string, string | undefined];
        const file = path === '' ? page : join(dirname(page), decodeURIComponent(path));
        const where = `${relative(root, page)}: (${target})`;
        if (!existsSync(file)) {
          broken.push(`${where} — no such file`);
          continue;
        }
        if (anchor && file.endsWith('.md') && !anchors(readFileSync(file, 'utf8')).has(anchor))
          broken.push(`${where} — no such heading`);
      }
    }
    assert.ok(checked > 50, `only ${checked} links found: is the pattern right?`);
    assert.deepEqual(broken, []);
  });

  it('keeps the README a getting-started page: at most 300 lines, with the two commands', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    assert.ok(readme.split('\n').length <= 300, `README.md has ${readme.split('\n').length} lines`);
    assert.match(readme, /^docker compose up$/m);
    assert.match(readme, /^npm ci && npm test$/m);
  });
});
