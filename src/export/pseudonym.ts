import { createHash, createHmac } from 'node:crypto';

const BLOCK = 64;

/** The HMAC-SHA256 pads of a key (RFC 2104), so that DuckDB computes the same HMAC with its sha256(). */
function pads(key: string): { inner: string; outer: string } {
  let k = Buffer.from(key, 'utf8');
  // why: RFC 2104 hashes a key longer than the block first.
  if (k.length > BLOCK) k = createHash('sha256').update(k).digest();
  const block = Buffer.alloc(BLOCK);
  k.copy(block);
  return {
    inner: Buffer.from(block.map((b) => b ^ 0x36)).toString('hex'),
    outer: Buffer.from(block.map((b) => b ^ 0x5c)).toString('hex'),
  };
}

/** Hex characters of the HMAC kept in a pseudonym: 80 bits, no collision in any study's lifetime. */
const HEX_CHARS = 20;

/** The pseudonym of an identifier: `p` + the first 80 bits of HMAC-SHA256(key, identifier) in hex. */
export function pseudonymOf(key: string, value: string): string {
  return `p${createHmac('sha256', key).update(value, 'utf8').digest('hex').slice(0, HEX_CHARS)}`;
}

/**
 * `pseudo(x)` in SQL, equal to {@link pseudonymOf}; NULL stays NULL. why: computed by the engine
 * row by row, so pseudonymising costs no extra pass and no lookup table of identifiers.
 */
export function pseudonymMacro(key: string): string {
  const { inner, outer } = pads(key);
  return `CREATE OR REPLACE MACRO pseudo(x) AS CASE WHEN x IS NULL THEN NULL ELSE 'p' || substr(sha256(unhex('${outer}') || unhex(sha256(unhex('${inner}') || encode(CAST(x AS VARCHAR))))), 1, ${HEX_CHARS}) END`;
}

/**
 * `unids(text, ids)` in SQL: `text` with every occurrence of each identifier in `ids` (a list,
 * longest first) replaced by its pseudonym; needs `pseudo()`. why: free text (a file name, an
 * error message, a meta field) can carry the participant's identifier, e.g. `voice_<id>.webm`.
 * Identifiers shorter than 4 characters are left: replacing every `12` in a text would garble it.
 */
export const UNIDS_MACRO = `CREATE OR REPLACE MACRO unids(x, ids) AS CASE WHEN x IS NULL THEN NULL ELSE list_reduce(list_prepend(CAST(x AS VARCHAR), list_filter(ids, i -> length(i) >= 4)), (acc, i) -> replace(acc, i, pseudo(i))) END`;

/**
 * Names of fields that commonly carry personal free text (left out under --pseudonymize): `email`,
 * also spelled `e-mail`, `e_mail`, `E Mail` or `e.mail`. why the separators: studies name the
 * field as their language writes it (`E_Mail`), and those were exported.
 */
export const PERSONAL_NAME = /e[-_. ]?mail/i;
