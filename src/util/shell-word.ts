/**
 * `s` as one word of a POSIX shell command: as it is when it holds only characters no shell treats
 * specially (so an ordinary id reads as before), else in single quotes, an embedded one written '\''.
 */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9._:@%+=,/-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
