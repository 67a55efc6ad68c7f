import assert from 'node:assert/strict';
import fc from 'fast-check';
import request from 'supertest';
import { ORIGIN, SECRETS, studyPlatforms } from './fixtures/export/drive-study.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';

/** Fixed in CI; `STUDYHOOK_FC_RUNS=5000 npx mocha test/ingest-any-values.test.ts` for a long run. */
const SEED = 41;
const RUNS = Number(process.env['STUDYHOOK_FC_RUNS'] ?? 200);
const NS = 'anyvalues';

/** Each route a platform calls without a signature, and the fields its payloads name. */
const ROUTES: {
  path: string;
  headers: Record<string, string>;
  /** Valid values of the fields the schema requires, so that the values reach normalise. */
  base: Record<string, unknown>;
  fields: string[];
}[] = [
  ...[
    'startFirstPlayerSession',
    'setPlayerSessionStartedTime',
    'addMetaInfo',
    'recordStartTask',
    'recordTrial',
    'finishExpSession',
    'errExpSession',
  ].map((route) => ({
    path: `/labvanced/${NS}/${route}`,
    headers: { Origin: ORIGIN },
    base: { expSessionNr: 'n1', recTaskId: 1, recData: { data: {} } },
    fields: [
      'expId',
      'expSessionNr',
      'subject_code',
      'start_time',
      'end_time',
      'recTaskId',
      'taskId',
      'taskName',
      'trialNr',
      'recData',
      'var_data',
      'survey_data',
      'error',
      'token',
    ],
  })),
  {
    path: `/sensorlogger/${NS}`,
    headers: {},
    base: { studyId: 's', uploadId: 'u', secretCode: 'c' },
    fields: ['studyId', 'uploadId', 'secretCode', 'deviceId', 'recordingName', 'startTime'],
  },
  {
    path: `/mydatahelps/${NS}/${SECRETS.mdhToken}`,
    headers: {},
    base: { EventType: 'SurveySubmitted' },
    fields: ['EventType', 'ParticipantIdentifier', 'ProjectID', 'SurveyResultID', 'ScheduleID'],
  },
];

/** Any JSON value, with the edges adapters meet least often made common. */
const VALUE = fc.oneof(
  { arbitrary: fc.jsonValue(), weight: 1 },
  {
    arbitrary: fc.constantFrom(1e300, -1e300, 9e15, -9e15, 2 ** 64, 1.5, -0, '', ' ', '1e3', 'NaN'),
    weight: 2,
  },
  {
    arbitrary: fc.constantFrom({ toString: 'x', valueOf: 1 }, { __proto__: null }, [[[]]], {
      '': {},
    }),
    weight: 1,
  },
);

// why: an exception in an adapter's normalise was a 500 that kept nothing (two such values were
// found by a review: an ActiGraph status String() cannot convert, a Labvanced time past a Date's
// range), and several of these platforms never call again. Whatever the values, a call is stored,
// quarantined or refused with a 4xx, never answered 500.
describe('ingest: any JSON values in the fields the platforms name', function () {
  this.timeout(120000);
  let t: TestGateway;
  before(async () => {
    t = await startGateway({ platforms: studyPlatforms([NS]), archive: false });
  });
  after(async () => t?.close());

  it('never answers 500, whatever a field holds', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc
          .constantFrom(...ROUTES)
          .chain((route) =>
            fc.tuple(
              fc.constant(route),
              fc.dictionary(fc.constantFrom(...route.fields), VALUE, { maxKeys: 4 }),
              fc.boolean(),
            ),
          ),
        async ([route, values, onBase]) => {
          // why both: values over the required fields reach the schema; beside them, normalise.
          const body = onBase ? { ...values, ...route.base } : { ...route.base, ...values };
          const res = await request(t.gateway.app!)
            .post(route.path)
            .set({ ...route.headers, 'Content-Type': 'application/json' })
            .send(JSON.stringify(body));
          assert.ok(
            res.status < 500,
            `${route.path} ${JSON.stringify(body)}: ${res.status} ${res.text}`,
          );
        },
      ),
      { seed: SEED, numRuns: RUNS },
    );
  });
});
