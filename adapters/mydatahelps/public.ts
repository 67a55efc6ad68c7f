/** `import type { MyDataHelpsClient } from 'studyhook/mydatahelps'`: the types of `ctx.clients.mydatahelps`, for sink authors. */
export type { MyDataHelpsClient, SurveyAnswer } from './client.js';
