/** `import type { SensorLoggerClient } from 'studyhook/sensorlogger'`: the types of `ctx.clients.sensorlogger`, for sink authors. */
export type { Download, SensorLoggerClient } from './client.js';
