import type { Adapter } from '../src/adapter/types.js';
import actigraph from './actigraph/index.js';
import labvanced from './labvanced/index.js';
import mydatahelps from './mydatahelps/index.js';
import prolific from './prolific/index.js';
import sensorlogger from './sensorlogger/index.js';

/** Every platform studyhook serves, in one explicit list. A new platform is one more line here. */
export const adapters: readonly Adapter[] = [
  sensorlogger,
  prolific,
  actigraph,
  labvanced,
  mydatahelps,
];
