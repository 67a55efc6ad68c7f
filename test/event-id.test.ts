import assert from 'node:assert/strict';
import { hash } from 'node:crypto';
import fc from 'fast-check';
import request from 'supertest';
import { hashId } from '../src/event/build-event.js';
import { PROTO_NAMES } from './helpers/proto-names.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';

/** RFC 9562: version 5 in the 13th hex digit, variant binary 10xx in the 17th. */
const STRICT_V5 = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const SEED = 1122;

/** The id form before the variant was set (studyhook up to 2026-11), kept here to compare with. */
function legacyHashId(first: string, parts: readonly (string | number)[]): string {
  const h = hash('sha256', [first, ...parts].join('\u001f'));
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

const part = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  fc.integer(),
  fc.constantFrom(...PROTO_NAMES, '', '\u001f'),
);
const key = fc.tuple(fc.string(), fc.array(part, { maxLength: 5 }));

describe('deterministic event ids (hashId)', () => {
  it('is a valid RFC 9562 version 5 UUID for any key', () => {
    fc.assert(
      fc.property(key, ([first, parts]) => {
        assert.match(hashId(first, parts), STRICT_V5);
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });

  it('collides exactly when the old form did: the same parts give the same id, other parts another', () => {
    // why: pairs drawn from a small pool, so that equal keys (which must collide) occur as well as different ones.
    const pool = fc.array(key, { minLength: 1, maxLength: 4 });
    fc.assert(
      fc.property(pool, fc.nat(), fc.nat(), (keys, i, j) => {
        const [a, b] = [keys[i % keys.length]!, keys[j % keys.length]!];
        assert.equal(
          hashId(a[0], a[1]) === hashId(b[0], b[1]),
          legacyHashId(a[0], a[1]) === legacyHashId(b[0], b[1]),
        );
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });

  it('differs from the old form only in the variant digit, and not at all where that digit was already 8–b', () => {
    fc.assert(
      fc.property(key, ([first, parts]) => {
        const now = hashId(first, parts);
        const old = legacyHashId(first, parts);
        assert.equal(now.slice(0, 19) + now.slice(20), old.slice(0, 19) + old.slice(20));
        assert.equal(parseInt(now[19]!, 16) & 3, parseInt(old[19]!, 16) & 3);
        if ('89ab'.includes(old[19]!)) assert.equal(now, old);
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });

  describe('over HTTP', () => {
    let t: TestGateway;
    before(async () => {
      t = await startGateway({
        platforms: {
          sensorlogger: { namespaces: { pilot: {} } },
          labvanced: { namespaces: { lab: {} } },
        },
        sinks: [],
      });
    });
    after(async () => {
      await t.close();
    });

    it('answers Sensor Logger uploads and Labvanced file uploads with strict UUIDs (`id`, `file_guid`)', async () => {
      for (let i = 0; i < 16; i++) {
        const sl = await request(t.gateway.app!)
          .post('/sensorlogger/pilot')
          .send({ studyId: 's', uploadId: `u-${i}`, secretCode: 'c' })
          .expect(200);
        assert.match(sl.body.id, STRICT_V5);
        const lv = await request(t.gateway.app!)
          .post('/labvanced/lab/file_upload')
          .set('Origin', 'https://www.labvanced.com')
          .field('expSessionNr', String(1000 + i))
          .field('newFileName', `f-${i}.txt`)
          .attach('myFile', Buffer.from(`file ${i}`), `f-${i}.txt`)
          .expect(200);
        assert.match(lv.body.file_guid, STRICT_V5);
      }
    });
  });
});
