import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import ts from 'typescript';
import { adapters } from '../adapters/index.js';

const root = new URL('..', import.meta.url).pathname;
const platforms = adapters.map((a) => a.platform);

/** The code of a file without its comments: the text of every token of its syntax tree. */
function code(file: string, text: string): string {
  const out: string[] = [];
  const visit = (node: ts.Node): void => {
    if (node.getChildCount() === 0) out.push(node.getText());
    else node.forEachChild(visit);
    if (ts.isTemplateLiteralToken(node) || ts.isStringLiteral(node)) out.push(node.text);
  };
  visit(ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true));
  return out.join(' ');
}

/** The platforms named in the code of a file. */
const platformsIn = (file: string, text: string): string[] => {
  const c = code(file, text).toLowerCase();
  return platforms.filter((p) => c.includes(p));
};

describe('the study feature in src/', () => {
  it("names no platform in its code: each platform's part is its adapter's study", async () => {
    const files = [
      ...(await readdir(join(root, 'src/study'))).map((f) => `src/study/${f}`),
      'src/http/study-pages.ts',
      'src/http/study-page-html.ts',
      'src/commands/study.ts',
    ];
    const found: string[] = [];
    for (const file of files)
      for (const p of platformsIn(file, await readFile(join(root, file), 'utf8')))
        found.push(`${file}: ${p}`);
    assert.deepEqual(found, []);
    assert.ok(files.length > 10, 'the files were found');
  });

  it('sees a platform named in a string, a template or a name, and not in a comment', () => {
    const seen = (text: string) => platformsIn('x.ts', text);
    assert.deepEqual(seen("if (uses('prolific')) f();"), ['prolific']);
    assert.deepEqual(seen('const t = `${a} see https://x.org/labvanced`;'), ['labvanced']);
    assert.deepEqual(seen('row.actigraph = 1;'), ['actigraph']);
    assert.deepEqual(seen('// prolific\n/** labvanced */ const x = `${a}`; /* actigraph */'), []);
  });
});
