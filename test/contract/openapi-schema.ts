import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

/** Twilio's OpenAPI documents, taken from twilio-oai (see shared/twilio/PORTING-FACTS.md). */
export const TWILIO_SPEC_DIR = process.env.TWILIO_SPEC_DIR ?? path.resolve(__dirname, '../../../shared/twilio');
const SPEC_FILES = { numbers: 'twilio_numbers_v1.json', api: 'twilio_api_v2010.json' } as const;
export type SpecName = keyof typeof SPEC_FILES;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * OpenAPI 3.0 `nullable: true` → JSON Schema: `type: [t, 'null']` (and null in `enum`), or
 * `anyOf: [{ $ref }, { type: 'null' }]` beside a `$ref`, where JSON Schema would ignore the siblings.
 */
export function convertNullable(node: Json): Json {
  if (Array.isArray(node)) return node.map(convertNullable);
  if (node === null || typeof node !== 'object') return node;
  const converted: { [key: string]: Json } = {};
  for (const [key, value] of Object.entries(node)) {
    if (key !== 'nullable') converted[key] = convertNullable(value);
  }
  if (node.nullable !== true) return converted;
  if (typeof converted.$ref === 'string') {
    const { $ref, ...rest } = converted;
    return { ...rest, anyOf: [{ $ref }, { type: 'null' }] };
  }
  if (typeof converted.type === 'string') converted.type = [converted.type, 'null'];
  if (Array.isArray(converted.enum) && !converted.enum.includes(null)) converted.enum = [...converted.enum, null];
  return converted;
}

const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
// Twilio writes first_page_uri, next_page_uri, ... as absolute paths, so "uri" here means URL or absolute path.
ajv.addFormat(
  'uri',
  (value: string) => /^\/\S*$/.test(value) || (/^https?:\/\/\S+$/.test(value) && URL.canParse(value)),
);
ajv.addFormat('phone-number', /^\+[1-9]\d{1,14}$/);
ajv.addFormat('iso-country-code', /^[A-Z]{2}$/);
ajv.addFormat('http-method', /^(GET|POST|PUT|DELETE|HEAD|PATCH)$/);
ajv.addFormat(
  'date-time-rfc-2822',
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$/,
);
// Formats on objects, or that no response here uses: accepted as they come.
for (const format of ['uri-map', 'phone-number-capabilities', 'currency', 'ice-server', 'endpoint', 'twiml']) {
  ajv.addFormat(format, true);
}

const loaded = new Set<SpecName>();

function loadSpec(spec: SpecName): void {
  if (loaded.has(spec)) return;
  const file = path.join(TWILIO_SPEC_DIR, SPEC_FILES[spec]);
  if (!existsSync(file)) throw new Error(`Twilio spec ${file} not found (set TWILIO_SPEC_DIR)`);
  const document = convertNullable(JSON.parse(readFileSync(file, 'utf8')) as Json) as { [key: string]: Json };
  ajv.addSchema({ ...document, $id: `twilio-${spec}` });
  loaded.add(spec);
}

const escapePointer = (segment: string) => segment.replace(/~/g, '~0').replace(/\//g, '~1');
const validators = new Map<string, ValidateFunction>();

/** The validator of one operation's response, e.g. ('numbers', 'get', '/v1/Porting/PortIn/{PortInRequestSid}', 200). */
export function responseValidator(
  spec: SpecName,
  method: string,
  pathTemplate: string,
  status: number,
): ValidateFunction {
  const key = `${spec} ${method} ${pathTemplate} ${status}`;
  const cached = validators.get(key);
  if (cached) return cached;
  loadSpec(spec);
  const pointer = [
    'paths',
    pathTemplate,
    method.toLowerCase(),
    'responses',
    String(status),
    'content',
    'application/json',
    'schema',
  ]
    .map(escapePointer)
    .join('/');
  const validate = ajv.compile({ $ref: `twilio-${spec}#/${pointer}` });
  validators.set(key, validate);
  return validate;
}

/** Throws, listing every schema error, unless `body` is what the spec says this operation answers. */
export function assertMatchesSpec(
  spec: SpecName,
  method: string,
  pathTemplate: string,
  status: number,
  body: unknown,
): void {
  const validate = responseValidator(spec, method, pathTemplate, status);
  if (!validate(body)) {
    const errors = (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');
    throw new Error(`${method.toUpperCase()} ${pathTemplate} ${status} does not match the spec: ${errors}`);
  }
}

/** A schema of our own for answers the specs do not describe (the Documents upload). */
export function compileSchema(schema: object): ValidateFunction {
  return ajv.compile(schema);
}
