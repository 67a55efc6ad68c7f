import { actigraph } from './actigraph.js';
import { labvanced } from './labvanced.js';
import { mydatahelps } from './mydatahelps.js';
import { prolific } from './prolific.js';
import { sensorlogger } from './sensorlogger.js';
import type { SampleBuilder } from './types.js';

/** Sample builders by platform, one per adapter. */
export const samples: readonly SampleBuilder[] = [
  sensorlogger,
  prolific,
  actigraph,
  labvanced,
  mydatahelps,
];
