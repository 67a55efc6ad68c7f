import type { Adapter } from '../src/adapter/types.js';
import labvanced from './labvanced.js';
import sensorlogger from './sensorlogger.js';

/** Every platform studyhook serves, in one explicit list. A new platform is one more line here. */
export const adapters: readonly Adapter[] = [sensorlogger, labvanced];
