import type { Adapter } from '../src/adapter/types.js';
import actigraph from './actigraph.js';
import labvanced from './labvanced.js';
import mydatahelps from './mydatahelps.js';
import prolific from './prolific.js';
import sensorlogger from './sensorlogger.js';

/** Every platform studyhook serves, in one explicit list. A new platform is one more line here. */
export const adapters: readonly Adapter[] = [
  sensorlogger,
  prolific,
  actigraph,
  labvanced,
  mydatahelps,
];
