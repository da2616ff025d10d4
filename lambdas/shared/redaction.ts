/** What a redacted value is logged as. */
export const REDACTED = '[REDACTED]';

/**
 * Keys whose values are secrets wherever they appear (compared lower-case, without `_`, `-` or spaces):
 * port-out PINs, the losing-carrier account number (with the PIN, enough to port a number away), Twilio auth
 * tokens and request signatures, Step Functions task tokens (whoever holds one can steer the workflow), AWS
 * credentials and signed headers, passwords and cookies. Not secret, and logged as they are: the Twilio account
 * SID, the losing carrier's account telephone number, ids of port requests, orders and documents.
 */
const SECRET_KEYS: ReadonlySet<string> = new Set([
  'pin',
  'pins',
  'accountnumber',
  'authtoken',
  'token',
  'tasktoken',
  'authorization',
  'proxyauthorization',
  'xtwiliosignature',
  'xamzsecuritytoken',
  'sessiontoken',
  'secretaccesskey',
  'awssecretaccesskey',
  'secret',
  'secretstring',
  'clientsecret',
  'password',
  'apikey',
  'xapikey',
  'cookie',
  'setcookie',
]);

const normalize = (key: string) => key.toLowerCase().replace(/[-_\s]/g, '');

/** Whether a key names a secret: one of the list, or any key ending in "password" or "secret". */
export function isSecretKey(key: string): boolean {
  const k = normalize(key);
  return SECRET_KEYS.has(k) || k.endsWith('password') || k.endsWith('secret');
}

/**
 * A JSON.stringify replacer that hides secrets wherever they sit in a log line: the value of every secret key,
 * at any depth, is replaced by "[REDACTED]". An HTTP `body` given as a string (API Gateway events) is parsed so
 * its keys are checked too; a body that is not JSON is not logged at all, only its length.
 */
export function redactSecrets(key: string, value: unknown): unknown {
  if (key === '') return value;
  if (isSecretKey(key)) return value === undefined || value === null ? value : REDACTED;
  if (key === 'body' && typeof value === 'string' && value.length > 0) {
    try {
      const parsed: unknown = JSON.parse(value);
      if (typeof parsed === 'object' && parsed !== null) return parsed;
    } catch {
      // not JSON: fall through
    }
    return `[body not logged: ${value.length} characters]`;
  }
  return value;
}
