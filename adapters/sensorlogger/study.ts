import { num, rows } from '../../src/study/facts-sql.js';
import {
  sensorloggerStudySchema,
  type SensorLoggerStudy,
} from '../../src/generated/sensorlogger-study.js';
import { defineStudyPart } from '../../src/study/study-part.js';

declare module '../../src/study/types.js' {
  interface StudyFacts {
    /** Sensor Logger uploads by status (its webhook names no participant). */
    sensorlogger: Record<string, number>;
  }
}

/** Sensor Logger in a study: counted per study, as its webhook names no participant. */
export const sensorloggerStudy = defineStudyPart<unknown, SensorLoggerStudy>({
  order: 5,
  schema: sensorloggerStudySchema,
  tables: ['sensorlogger_uploads'],
  async facts({ conn, has }) {
    const sensorlogger: Record<string, number> = {};
    if (has)
      for (const r of await rows(
        conn,
        'SELECT status, count(*) AS n FROM sensorlogger_uploads GROUP BY 1 ORDER BY 1',
      ))
        sensorlogger[String(r['status'])] = num(r['n']);
    return { sensorlogger };
  },
  statusCounts: (facts) =>
    Object.keys(facts.sensorlogger).length > 0 ? { ...facts.sensorlogger } : undefined,
  page: { color: '#b3142c' },
});
