import { actigraphUploads } from './tables/actigraph.js';
import { labvancedFiles } from './tables/labvanced-files.js';
import { labvancedSessions } from './tables/labvanced-sessions.js';
import { labvancedTrials } from './tables/labvanced-trials.js';
import { mydatahelpsSchedules, mydatahelpsSurveys } from './tables/mydatahelps.js';
import { prolificStudies, prolificSubmissions } from './tables/prolific.js';
import { sensorloggerUploads } from './tables/sensorlogger.js';
import type { TableBuilder } from './types.js';

/** Every table, in the order they are built (sessions count the trials, so trials come first). */
export const tables: readonly TableBuilder[] = [
  labvancedTrials,
  labvancedSessions,
  labvancedFiles,
  prolificSubmissions,
  prolificStudies,
  sensorloggerUploads,
  actigraphUploads,
  mydatahelpsSurveys,
  mydatahelpsSchedules,
];
