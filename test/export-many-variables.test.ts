import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { runExport } from '../src/export/index.js';
import { MAX_VARIABLE_COLUMNS } from '../src/export/variables.js';

const TRIALS = 1200;
const SESSIONS = 3;
const FIXED = 10;

/** A trial as the filesystem sink archives it. */
function trial(ns: string, t: number, vars: Record<string, unknown>): string {
  const at = new Date(Date.UTC(2026, 4, 1, 0, 0, t)).toISOString();
  return JSON.stringify({
    specversion: '1.0',
    id: `trial-${String(t).padStart(5, '0')}`,
    source: `/labvanced/${ns}`,
    type: 'labvanced.trial.recorded',
    time: at,
    datacontenttype: 'application/json',
    platform: 'labvanced',
    namespace: ns,
    receivedat: at,
    requestid: `request-${t}`,
    participantid: `P${t % SESSIONS}`,
    data: {
      expId: 1,
      expSessionNr: 1 + (t % SESSIONS),
      recTaskId: 1,
      taskId: 't',
      trialNr: t,
      recData: { data: vars, scope: 'trial' },
    },
  });
}

/** A session's meta information (`/addMetaInfo`), as the filesystem sink archives it. */
function meta(ns: string, session: number, varData: Record<string, unknown>): string {
  return JSON.stringify({
    specversion: '1.0',
    id: `meta-${session}`,
    source: `/labvanced/${ns}`,
    type: 'labvanced.session.meta',
    time: '2026-05-01T00:00:00.000Z',
    datacontenttype: 'application/json',
    platform: 'labvanced',
    namespace: ns,
    receivedat: '2026-05-01T00:00:01.000Z',
    requestid: `request-${session}`,
    data: { expSessionNr: session, var_data: varData },
  });
}

async function archive(dir: string, ns: string, lines: string[]): Promise<void> {
  await mkdir(join(dir, 'labvanced', ns), { recursive: true });
  await writeFile(join(dir, 'labvanced', ns, '2026-05-01.jsonl'), `${lines.join('\n')}\n`);
}

/** A CSV line's fields (the values here hold no comma except inside the quoted JSON). */
function fields(line: string): string[] {
  const out: string[] = [];
  for (const m of line.matchAll(/"((?:[^"]|"")*)"|([^,]*)/g)) {
    if (m.index! > 0 && line[m.index! - 1] !== ',') continue;
    out.push(m[1] !== undefined ? m[1].replace(/""/g, '"') : (m[2] ?? ''));
  }
  return out;
}

describe('studyhook export: trials and sessions that name their variables one by one', function () {
  this.timeout(60000);
  let tmp: string;
  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'studyhook-many-vars-'));
    // Each trial records `rt` and a variable of its own name (as a study that names a response per
    // trial does, or trials forged with a new name each).
    await archive(
      join(tmp, 'events'),
      'pertrial',
      Array.from({ length: TRIALS }, (_, t) =>
        trial('pertrial', t, { rt: t, [`resp_${t}`]: `r${t}` }),
      ),
    );
  });
  after(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });
  /** Exports `namespace` to CSV in `<tmp>/<name>`; returns that directory. */
  const exportTo = async (namespace: string, name: string, pseudonymize?: string) => {
    const out = join(tmp, name);
    await runExport({
      archiveDir: join(tmp, 'events'),
      namespace,
      out,
      format: 'csv',
      ...(pseudonymize !== undefined && { pseudonymize }),
    });
    return out;
  };

  it(`gives the first ${MAX_VARIABLE_COLUMNS} variables columns and keeps every variable in one JSON column`, async () => {
    const out = await exportTo('pertrial', 'csv');
    const lines = (await readFile(join(out, 'labvanced_trials.csv'), 'utf8')).trim().split('\n');
    const header = lines[0]!.split(',');
    assert.equal(header.length, FIXED + MAX_VARIABLE_COLUMNS + 1);
    assert.equal(header[FIXED], 'rt');
    // First-seen order: session 1 first (trials 0, 3, 6, ...), by trial number.
    assert.deepEqual(header.slice(FIXED + 1, FIXED + 4), ['resp_0', 'resp_3', 'resp_6']);
    assert.equal(header.at(-1), 'variables');
    assert.equal(lines.length, 1 + TRIALS);
    const rows = lines.slice(1).map(fields);
    const byId = new Map(rows.map((r) => [r[9]!, r]));
    for (const t of [0, 3, TRIALS - 1, TRIALS - 2]) {
      const r = byId.get(`trial-${String(t).padStart(5, '0')}`)!;
      // Nothing lost: every variable of every trial is in `variables`, whether it has a column or not.
      assert.deepEqual(JSON.parse(r.at(-1)!), { rt: t, [`resp_${t}`]: `r${t}` });
      const own = header.indexOf(`resp_${t}`);
      if (own >= 0) assert.equal(r[own], `r${t}`);
      assert.equal(r[FIXED], String(t));
    }
    assert.ok(!header.includes(`resp_${TRIALS - 1}`), 'the last variables have no column');
    const codebook = await readFile(join(out, 'codebook.md'), 'utf8');
    assert.match(codebook, new RegExp(`${TRIALS + 1 - MAX_VARIABLE_COLUMNS} of them`));
  });

  it('keeps the earliest copy of a trial archived twice, past the cap too', async () => {
    const n = MAX_VARIABLE_COLUMNS + 100;
    const lines = Array.from({ length: n }, (_, t) =>
      trial('dup', t, { rt: t, [`resp_${t}`]: `r${t}` }),
    );
    // The same event (same id) archived again later, with other values: counted once, the first kept.
    const copy = JSON.parse(lines[5]!) as {
      receivedat: string;
      data: { recData: { data: object } };
    };
    copy.receivedat = '2026-05-02T00:00:00.000Z';
    copy.data.recData.data = { rt: -1, resp_5: 'copy' };
    await archive(join(tmp, 'events'), 'dup', [...lines, JSON.stringify(copy)]);
    const out = await exportTo('dup', 'dup');
    const rows = (await readFile(join(out, 'labvanced_trials.csv'), 'utf8')).trim().split('\n');
    assert.equal(rows.length, 1 + n);
    const five = rows.map(fields).filter((r) => r[9] === 'trial-00005');
    assert.equal(five.length, 1);
    assert.deepEqual(JSON.parse(five[0]!.at(-1)!), { rt: 5, resp_5: 'r5' });
    // Row order as without copies: session, then trial number.
    const order = rows.slice(1).map((r) => fields(r).slice(0, 7).join('/'));
    const sorted = [...order].sort((a, b) => {
      const [sa, , , , , , ta] = a.split('/').map(Number);
      const [sb, , , , , , tb] = b.split('/').map(Number);
      return sa! - sb! || ta! - tb!;
    });
    assert.deepEqual(order, sorted);
  });

  it('keeps prototype-named, deeply nested and late variables past the cap, and skips a torn line', async () => {
    const n = MAX_VARIABLE_COLUMNS + 10;
    // why built as text: JSON.stringify recurses and runs out of stack long before 10,000 levels.
    const deep = `${'{"d":'.repeat(10_000)}"bottom"${'}'.repeat(10_000)}`;
    const lines = Array.from({ length: n }, (_, t) => trial('odd', t, { [`resp_${t}`]: t }));
    // why replaced as text: `__proto__` in an object literal sets the prototype, not a key.
    lines.push(
      trial('odd', n, { proto: 'p', constructor: 'c', toString: 1, deep: 0 })
        .replace('"proto":"p"', '"__proto__":"p"')
        .replace('"deep":0', `"deep":${deep}`),
    );
    // A line cut off while it was written (the last one of a file whose writer died).
    lines.push(trial('odd', n + 1, { resp: 1 }).slice(0, 80));
    const out = join(tmp, 'odd');
    await archive(join(tmp, 'events'), 'odd', lines);
    const r = await runExport({
      archiveDir: join(tmp, 'events'),
      namespace: 'odd',
      out,
      format: 'csv',
    });
    assert.equal(r.badLineCount, 1);
    const rows = (await readFile(join(out, 'labvanced_trials.csv'), 'utf8')).trim().split('\n');
    assert.equal(rows.length, 1 + n + 1);
    const last = fields(rows.find((l) => l.includes(`trial-${String(n).padStart(5, '0')}`))!);
    const all = last.at(-1)!;
    assert.ok(
      all.startsWith('{"__proto__":"p","constructor":"c","toString":1,"deep":'),
      all.slice(0, 80),
    );
    assert.ok(all.includes(deep), 'the 10,000 levels, whole');
  });

  it('types variables that only later trials record, and names with JSON-pointer characters', async () => {
    // The first 240 trials (as a first task would) record only `rt`; the later ones add three more.
    await archive(
      join(tmp, 'events'),
      'latetask',
      Array.from({ length: 300 }, (_, t) =>
        trial(
          'latetask',
          t,
          t < 240
            ? { rt: t }
            : { rt: t, late: t % 2 ? 1.5 : 2, flag: t % 3 ? true : 'x', 'a/b~c': 7 },
        ),
      ),
    );
    const out = await exportTo('latetask', 'latetask');
    const lines = (await readFile(join(out, 'labvanced_trials.csv'), 'utf8')).trim().split('\n');
    assert.deepEqual(lines[0]!.split(',').slice(FIXED), ['rt', 'late', 'flag', 'a/b~c']);
    const codebook = JSON.parse(await readFile(join(out, 'codebook.json'), 'utf8')) as {
      tables: { name: string; columns: { name: string; type: string }[] }[];
    };
    const types = Object.fromEntries(
      codebook.tables
        .find((t) => t.name === 'labvanced_trials')!
        .columns.slice(FIXED)
        .map((c) => [c.name, c.type]),
    );
    assert.deepEqual(types, { rt: 'integer', late: 'number', flag: 'text', 'a/b~c': 'integer' });
    const byId = new Map(lines.slice(1).map((l) => [l.split(',')[9]!, l.split(',').slice(FIXED)]));
    assert.deepEqual(byId.get('trial-00007'), ['7', '', '', '']);
    assert.deepEqual(byId.get('trial-00241'), ['241', '1.5', 'true', '7']);
    assert.deepEqual(byId.get('trial-00243'), ['243', '1.5', 'x', '7']);
    assert.deepEqual(byId.get('trial-00244'), ['244', '2.0', 'true', '7']);
  });

  it('keeps a variable or meta field whose name holds a NUL character in the JSON column instead of failing', async () => {
    // JSON allows "\u0000" in a name, and a participant's browser can send one; SQL text cannot hold it.
    await archive(join(tmp, 'events'), 'nulname', [
      trial('nulname', 1, { rt: 1, 'a\u0000z': 2, obj: { ['x\u0000y']: 3, ok: 4 } }),
      trial('nulname', 2, { rt: 2 }),
      meta('nulname', 2, { age: 30, ['b\u0000c']: 'x' }),
    ]);
    const out = await exportTo('nulname', 'nulname');
    const trials = (await readFile(join(out, 'labvanced_trials.csv'), 'utf8')).trim().split('\n');
    assert.deepEqual(trials[0]!.split(',').slice(FIXED), ['rt', 'obj', 'variables']);
    const first = fields(trials.find((l) => l.includes('trial-00001'))!);
    assert.equal(first[FIXED], '1');
    assert.deepEqual(JSON.parse(first[FIXED + 1]!), { ['x\u0000y']: 3, ok: 4 });
    assert.deepEqual(JSON.parse(first.at(-1)!), {
      rt: 1,
      'a\u0000z': 2,
      obj: { ['x\u0000y']: 3, ok: 4 },
    });
    const sessions = (await readFile(join(out, 'labvanced_sessions.csv'), 'utf8'))
      .trim()
      .split('\n');
    const header = sessions[0]!.split(',');
    assert.ok(header.includes('var_data.age') && header.includes('var_data'), header.join(','));
    const row = fields(sessions[1]!);
    assert.deepEqual(JSON.parse(row[header.indexOf('var_data')]!), { age: 30, ['b\u0000c']: 'x' });
    const codebook = await readFile(join(out, 'codebook.md'), 'utf8');
    assert.ok(!codebook.includes('\u0000'), 'no NUL byte in the codebook');
    assert.ok(codebook.includes('"a\\u0000z"'), 'the name is shown escaped');
  });

  it('keeps whole numbers past 64-bit signed integers exact, in CSV and Parquet, trials and meta information', async () => {
    // JSON (and a participant's browser) allows whole numbers up to 2^64 and more; written as text
    // here, since JSON.stringify cannot.
    const big = '9223372036854775808'; // 2^63
    const bigger = '18446744073709551615'; // 2^64 - 1
    const lines = [
      trial('bignum', 1, { id: 'BIG', n: 1, m: -1 }),
      trial('bignum', 2, { id: 5, n: 'BIGGER', m: 'BIG' }),
      trial('bignum', 3, { id: 7, n: 3, m: 2 }),
      meta('bignum', 2, { code: 'BIG', age: 30 }),
      // a name DuckDB refuses as a field ('') sends these trials down the JSON path
      trial('bignumjson', 1, { '': 1, id: 'BIG' }),
      trial('bignumjson', 2, { '': 2, id: 4 }),
    ].map((l) => l.replace('"BIGGER"', bigger).replaceAll('"BIG"', big));
    await archive(join(tmp, 'events'), 'bignum', lines.slice(0, 4));
    await archive(join(tmp, 'events'), 'bignumjson', lines.slice(4));
    const csv = await exportTo('bignum', 'bignum');
    const rows = (await readFile(join(csv, 'labvanced_trials.csv'), 'utf8')).trim().split('\n');
    assert.deepEqual(
      rows.map((l) => l.split(',').slice(FIXED).join(',')),
      // rows in session order: trial 3 is session 1, trial 1 session 2, trial 2 session 3
      ['id,n,m', '7,3,2', `${big},1,-1`, `5,${bigger},${big}`],
    );
    const sessions = (await readFile(join(csv, 'labvanced_sessions.csv'), 'utf8'))
      .trim()
      .split('\n');
    const header = sessions[0]!.split(',');
    const two = fields(sessions.find((l) => l.startsWith('2,'))!);
    assert.equal(two[header.indexOf('var_data.code')], big);
    assert.equal(two[header.indexOf('var_data.age')], '30');
    const json = await exportTo('bignumjson', 'bignumjson');
    const jrows = (await readFile(join(json, 'labvanced_trials.csv'), 'utf8')).trim().split('\n');
    assert.deepEqual(
      jrows.map((l) => l.split(',').slice(FIXED).join(',')),
      ['var.,id', `1,${big}`, '2,4'],
    );
    const pq = join(tmp, 'bignum-parquet');
    await runExport({
      archiveDir: join(tmp, 'events'),
      namespace: 'bignum',
      out: pq,
      format: 'parquet',
    });
    const db = await (await DuckDBInstance.create(':memory:')).connect();
    const read = await db.runAndReadAll(
      `SELECT typeof(id), typeof(n), typeof(m), id::VARCHAR, n::VARCHAR, m::VARCHAR FROM read_parquet('${join(pq, 'labvanced_trials.parquet')}')`,
    );
    assert.deepEqual(read.getRowsJS(), [
      ['UBIGINT', 'UBIGINT', 'VARCHAR', '7', '3', '2'],
      ['UBIGINT', 'UBIGINT', 'VARCHAR', big, '1', '-1'],
      ['UBIGINT', 'UBIGINT', 'VARCHAR', '5', bigger, big],
    ]);
  });

  it('drops the JSON column of every variable under --pseudonymize, and says so', async () => {
    const out = await exportTo('pertrial', 'pseudo', 'k'.repeat(32));
    const header = (await readFile(join(out, 'labvanced_trials.csv'), 'utf8')).split('\n')[0]!;
    assert.equal(header.split(',').length, FIXED + MAX_VARIABLE_COLUMNS);
    assert.ok(!header.split(',').includes('variables'));
    const codebook = JSON.parse(await readFile(join(out, 'codebook.json'), 'utf8')) as {
      tables: { name: string; dropped: { name: string }[] }[];
    };
    const trials = codebook.tables.find((t) => t.name === 'labvanced_trials')!;
    assert.deepEqual(
      trials.dropped.map((d) => d.name),
      ['variables'],
    );
  });

  it(`gives the first ${MAX_VARIABLE_COLUMNS} fields of the sessions' meta information columns, and all of it in one JSON column`, async () => {
    const sessions = MAX_VARIABLE_COLUMNS + 100;
    await archive(
      join(tmp, 'events'),
      'permeta',
      Array.from({ length: sessions }, (_, i) =>
        meta('permeta', i + 1, { age: i, [`q_${i + 1}`]: 'yes' }),
      ),
    );
    const out = await exportTo('permeta', 'meta');
    const lines = (await readFile(join(out, 'labvanced_sessions.csv'), 'utf8')).trim().split('\n');
    const header = lines[0]!.split(',');
    const own = header.filter((h) => h.startsWith('var_data.'));
    assert.equal(own.length, MAX_VARIABLE_COLUMNS);
    assert.deepEqual(own.slice(0, 3), ['var_data.age', 'var_data.q_1', 'var_data.q_2']);
    assert.equal(header.at(-1), 'var_data');
    assert.equal(lines.length, 1 + sessions);
    const last = fields(lines.at(-1)!);
    assert.equal(last[0], String(sessions));
    assert.deepEqual(JSON.parse(last.at(-1)!), { age: sessions - 1, [`q_${sessions}`]: 'yes' });
    const first = fields(lines[1]!);
    assert.equal(first[header.indexOf('var_data.q_1')], 'yes');
    assert.equal(first[header.indexOf('var_data.age')], '0');
  });

  it('keeps an object variable whose fields would not fit as one JSON column, and adds no other', async () => {
    const wide = Object.fromEntries(
      Array.from({ length: MAX_VARIABLE_COLUMNS + 1 }, (_, i) => [`f${i}`, i]),
    );
    await archive(join(tmp, 'events'), 'wideobject', [
      trial('wideobject', 1, { a: 1, stimulus: wide, b: 'x' }),
      trial('wideobject', 2, { a: 2, stimulus: { f0: 5 }, b: 'y' }),
    ]);
    const out = await exportTo('wideobject', 'object');
    const lines = (await readFile(join(out, 'labvanced_trials.csv'), 'utf8')).trim().split('\n');
    assert.deepEqual(lines[0]!.split(',').slice(FIXED), ['a', 'stimulus', 'b']);
    const second = fields(lines[2]!);
    assert.deepEqual(JSON.parse(second[FIXED + 1]!), { f0: 5 });
    assert.equal(second[FIXED + 2], 'y');
  });
});
