/** SQL aggregates over one entity's status events, oldest first by event time, then received time, then id. */
export const ORDER = 'time, receivedat, id';

/** The latest value of `expr` (by event time). */
export function latest(expr: string, filter = 'true'): string {
  return `arg_max(${expr}, (${ORDER})) FILTER (WHERE ${filter} AND ${expr} IS NOT NULL)`;
}

/** `ACTIVE→AWAITING REVIEW→APPROVED`: every status in event-time order. */
export function history(expr: string, filter = 'true'): string {
  return `string_agg(${expr}, '→' ORDER BY ${ORDER}) FILTER (WHERE ${filter} AND ${expr} IS NOT NULL)`;
}
