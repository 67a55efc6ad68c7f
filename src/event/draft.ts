/** Adapter output: one event to publish. The core adds specversion, source, receivedat and the raw-request link. */
export interface EventDraft {
  /** `<platform>.<entity>.<action>` */
  type: string;
  /** Parts of the platform's own identity (e.g. [studyId, uploadId]); the same parts give the same event id. Omit for a generated id. */
  key?: readonly (string | number)[];
  /** Use this exact id (e.g. Prolific's X-Event-ID) instead of one derived from `key`. */
  id?: string;
  subject?: string;
  time?: string;
  studyid?: string;
  participantid?: string;
  sessionid?: string;
  /** Further CloudEvents extension attributes (lower-case names; string, integer or boolean values). */
  extensions?: Record<string, string | number | boolean>;
  data: unknown;
  /** Values sinks may need but that must never be logged or archived (e.g. Sensor Logger's secretCode): reach sinks via ctx.secrets. */
  secrets?: Record<string, string>;
}
