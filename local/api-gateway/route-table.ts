/** How one resource path segment matches: a literal, a `{param}`, or a greedy `{param+}` (last segment only). */
type Segment =
  | { readonly kind: 'literal'; readonly value: string }
  | { readonly kind: 'param'; readonly name: string }
  | { readonly kind: 'greedy'; readonly name: string };

/** A resource path compiled for matching, with the routes (one per method) defined on it. */
interface Resource<R> {
  readonly resourcePath: string;
  readonly segments: readonly Segment[];
  readonly methods: Map<string, R>;
}

/** The outcome of matching a request path and method against the table. */
export type RouteMatch<R> =
  | {
      readonly kind: 'found';
      readonly route: R;
      readonly resourcePath: string;
      readonly pathParameters: Record<string, string>;
    }
  | { readonly kind: 'method-not-allowed'; readonly resourcePath: string; readonly allowedMethods: readonly string[] }
  | { readonly kind: 'not-found' };

/** Routes indexed by resource path and matched the way API Gateway REST APIs do. */
export class RouteTable<R extends { readonly method: string; readonly resourcePath: string }> {
  private readonly resources: Resource<R>[] = [];

  constructor(routes: readonly R[]) {
    const byPath = new Map<string, Resource<R>>();
    for (const route of routes) {
      let resource = byPath.get(route.resourcePath);
      if (!resource) {
        resource = { resourcePath: route.resourcePath, segments: compile(route.resourcePath), methods: new Map() };
        byPath.set(route.resourcePath, resource);
        this.resources.push(resource);
      }
      const method = route.method.toUpperCase();
      if (resource.methods.has(method)) {
        throw new Error(`Duplicate route ${method} ${route.resourcePath}`);
      }
      resource.methods.set(method, route);
    }
  }

  /** Finds the route for a raw (still percent-encoded) request path; path parameters come back decoded. */
  match(method: string, rawPath: string): RouteMatch<R> {
    const requestSegments = rawPath.split('/').filter((s) => s.length > 0);
    const decoded = requestSegments.map(safeDecode);
    const candidates: Array<{ resource: Resource<R>; rank: number[]; params: Record<string, string> }> = [];
    for (const resource of this.resources) {
      const result = matchSegments(resource.segments, decoded);
      if (result) candidates.push({ resource, ...result });
    }
    if (candidates.length === 0) return { kind: 'not-found' };
    // API Gateway prefers a literal segment over {param} over {param+}, deciding at the first segment that differs.
    candidates.sort((a, b) => compareRanks(a.rank, b.rank));
    const upper = method.toUpperCase();
    for (const { resource, params } of candidates) {
      const route = resource.methods.get(upper) ?? resource.methods.get('ANY');
      if (route) return { kind: 'found', route, resourcePath: resource.resourcePath, pathParameters: params };
    }
    const best = candidates[0] as (typeof candidates)[number];
    return {
      kind: 'method-not-allowed',
      resourcePath: best.resource.resourcePath,
      allowedMethods: [...best.resource.methods.keys()].sort(),
    };
  }
}

function compile(resourcePath: string): Segment[] {
  if (!resourcePath.startsWith('/')) throw new Error(`Resource path must start with '/': ${resourcePath}`);
  const parts = resourcePath.split('/').filter((s) => s.length > 0);
  return parts.map((part, index) => {
    const param = /^\{([A-Za-z0-9_.-]+)(\+?)\}$/.exec(part);
    if (!param) {
      if (part.includes('{') || part.includes('}')) throw new Error(`Invalid path part '${part}' in ${resourcePath}`);
      return { kind: 'literal', value: part };
    }
    const name = param[1] as string;
    if (param[2] === '+') {
      if (index !== parts.length - 1) throw new Error(`A greedy path part must be last: ${resourcePath}`);
      return { kind: 'greedy', name };
    }
    return { kind: 'param', name };
  });
}

function matchSegments(
  segments: readonly Segment[],
  request: readonly string[],
): { rank: number[]; params: Record<string, string> } | undefined {
  const rank: number[] = [];
  const params: Record<string, string> = {};
  for (const [index, segment] of segments.entries()) {
    if (segment.kind === 'greedy') {
      // {proxy+} needs at least one segment: the parent resource answers the bare path.
      if (request.length <= index) return undefined;
      params[segment.name] = request.slice(index).join('/');
      rank.push(2);
      return { rank, params };
    }
    const value = request[index];
    if (value === undefined) return undefined;
    if (segment.kind === 'literal') {
      if (segment.value !== value) return undefined;
      rank.push(0);
    } else {
      params[segment.name] = value;
      rank.push(1);
    }
  }
  return request.length === segments.length ? { rank, params } : undefined;
}

function compareRanks(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const diff = (a[i] as number) - (b[i] as number);
    if (diff !== 0) return diff;
  }
  return b.length - a.length;
}

/** Decodes a percent-encoded component, keeping it as sent when it is not valid encoding. */
export function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
