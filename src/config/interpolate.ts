import { own } from '../util/own.js';

export interface InterpolationProblem {
  path: string;
  message: string;
  /** The variable, for problems about one. */ env?: string;
}

/** Replaces `${VAR}` (and `${VAR:-default}`) in every string of a parsed config; `$${` escapes. */
export function interpolate(
  value: unknown,
  env: Record<string, string | undefined>,
  path: string,
  problems: InterpolationProblem[],
  secrets: Set<string>,
): unknown {
  if (typeof value === 'string') {
    return value.replace(
      /\$?\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g,
      (match, name: string, fallback: string | undefined) => {
        if (match.startsWith('$$')) return match.slice(1);
        // why: own keys only: `${constructor}` or `${__proto__}` must be "not set", not a member of Object.prototype.
        const found = own(env, name);
        if (found !== undefined && found !== '') {
          secrets.add(found);
          return found;
        }
        // why: as in the shell, `:-` also covers a variable set to the empty string.
        if (fallback !== undefined) return fallback;
        problems.push({
          path,
          message:
            found === undefined
              ? `environment variable ${name} is not set (set it in the environment or in the .env next to the config)`
              : `environment variable ${name} is set but empty (give it a value, or write \${${name}:-default})`,
          env: name,
        });
        return '';
      },
    );
  }
  if (Array.isArray(value))
    return value.map((v, i) => interpolate(v, env, `${path}/${i}`, problems, secrets));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        interpolate(v, env, `${path}/${k}`, problems, secrets),
      ]),
    );
  }
  return value;
}

const SECRET_KEY =
  /secret|token|password|passcode|apikey|api_key|credential|privatekey|private_key/i;

/** A copy of the config with secrets masked: values that came from the environment, and keys that name a secret. */
export function maskSecrets(value: unknown, secrets: ReadonlySet<string>, key = ''): unknown {
  if (typeof value === 'string')
    return secrets.has(value) || SECRET_KEY.test(key) ? '********' : value;
  if (Array.isArray(value)) return value.map((v) => maskSecrets(v, secrets, key));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        maskSecrets(v, secrets, SECRET_KEY.test(k) ? k : ''),
      ]),
    );
  }
  return value;
}
