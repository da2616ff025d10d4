import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { buildOpenApiDocument } from '../../lambdas/handlers/api/openapi';

// Checks real answers against the OpenAPI document the service serves, so that an answer and its documentation
// cannot drift apart: the end-to-end tests call expectMatchesOpenApi on every answer they get.

type Operation = { responses?: Record<string, { content?: Record<string, { schema?: unknown }> }> };
type OpenApiDocument = { paths: Record<string, Record<string, Operation>> };

const DOCUMENT_ID = 'https://ringtonic.example/openapi.json';
const document = buildOpenApiDocument() as OpenApiDocument;

// strict: false, since the OpenAPI keywords around the schemas (paths, responses, ...) are no JSON Schema keywords.
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema({ ...document, $id: DOCUMENT_ID });

/** `{accountId}` → one path segment; the literal parts are escaped. */
const templates = Object.keys(document.paths).map((template) => ({
  template,
  pattern: new RegExp(
    `^${template
      .split(/(\{[^}]+\})/)
      .map((part) => (part.startsWith('{') ? '[^/]+' : part.replace(/[.*+?^$()|[\]\\]/g, '\\$&')))
      .join('')}$`,
  ),
}));

/** The documented path of a resource path (`/v1/accounts/{accountId}/…`) or of a real one (`/v1/accounts/acme/…`). */
export function documentedPath(resourcePath: string): string | undefined {
  const path = resourcePath.split('?')[0] ?? resourcePath;
  if (document.paths[path]) return path;
  return templates.find(({ pattern }) => pattern.test(path))?.template;
}

/** RFC 6901 pointer segment, percent-encoded to live in a URI fragment (`{`, `}` and `+` appear in the keys). */
const pointerSegment = (segment: string) => encodeURIComponent(segment.replace(/~/g, '~0').replace(/\//g, '~1'));

const validators = new Map<string, ValidateFunction>();

function validatorFor(path: string, method: string, status: string, mediaType: string): ValidateFunction {
  const key = [path, method, status, mediaType].join(' ');
  let validate = validators.get(key);
  if (!validate) {
    const pointer = ['paths', path, method, 'responses', status, 'content', mediaType, 'schema']
      .map(pointerSegment)
      .join('/');
    validate = ajv.compile({ $ref: `${DOCUMENT_ID}#/${pointer}` });
    validators.set(key, validate);
  }
  return validate;
}

/** A short JSON excerpt of the body for the failure message. */
function excerpt(body: unknown): string {
  const text = JSON.stringify(body) ?? String(body);
  return text.length > 600 ? `${text.slice(0, 600)}…` : text;
}

/**
 * Fails, naming every difference, unless `body` is what the OpenAPI document says `method resourcePath` answers
 * with `status`. `resourcePath` may be the documented template or a real path (a query string is ignored);
 * `contentType`, when given, must be the documented media type of that answer.
 */
export function expectMatchesOpenApi(
  method: string,
  resourcePath: string,
  status: number,
  body: unknown,
  contentType?: string,
): void {
  const route = `${method.toUpperCase()} ${resourcePath}`;
  const path = documentedPath(resourcePath);
  if (!path) throw new Error(`${route}: no path of the OpenAPI document matches ${resourcePath}`);
  const operation = document.paths[path]?.[method.toLowerCase()];
  if (!operation) throw new Error(`${route}: the OpenAPI document has no ${method.toUpperCase()} on ${path}`);
  const responses = operation.responses ?? {};
  const response = responses[String(status)];
  if (!response) {
    throw new Error(
      `${route} answered ${status}, which the OpenAPI document does not list for ${path} (it lists ${Object.keys(responses).join(', ')})`,
    );
  }
  const mediaTypes = Object.keys(response.content ?? {});
  const mediaType = contentType?.split(';')[0]?.trim().toLowerCase() ?? mediaTypes[0];
  if (!mediaType || !mediaTypes.includes(mediaType)) {
    throw new Error(
      `${route} answered ${status} as ${contentType ?? 'nothing'}, but the OpenAPI document says ${mediaTypes.join(' or ') || 'no body'}`,
    );
  }
  const validate = validatorFor(path, method.toLowerCase(), String(status), mediaType);
  if (!validate(body)) {
    const errors = (validate.errors ?? []).map((error) => {
      const extra =
        error.keyword === 'additionalProperties'
          ? ` (${String(error.params.additionalProperty)})`
          : error.keyword === 'enum'
            ? ` (${(error.params.allowedValues as unknown[]).join(', ')})`
            : '';
      return `  ${error.instancePath || '(body)'} ${error.message ?? error.keyword}${extra}`;
    });
    throw new Error(
      `${route} ${status} does not match the OpenAPI document (${path}):\n${errors.join('\n')}\nbody: ${excerpt(body)}`,
    );
  }
}
