/** Turns template references into local names: the local stack decides what each resource is called. */
export interface IntrinsicResolver {
  /** The value of `{ "Ref": logicalId }` (a name, an id or an ARN, as CloudFormation would give for that type). */
  ref(logicalId: string): string;
  /** The value of `{ "Fn::GetAtt": [logicalId, attribute] }`. */
  getAtt(logicalId: string, attribute: string): string;
}

/** Values of the pseudo parameters (`AWS::Region`...). */
export interface PseudoParameters {
  readonly region: string;
  readonly accountId: string;
  readonly partition: string;
  /** @default 'amazonaws.com' */
  readonly urlSuffix?: string;
  /** @default 'RingTonicPortIn' */
  readonly stackName?: string;
}

/** The pseudo parameters used when none are given: the local stack's region and a dummy account. */
export const LOCAL_PSEUDO_PARAMETERS: PseudoParameters = {
  region: 'us-east-1',
  accountId: '000000000000',
  partition: 'aws',
  urlSuffix: 'amazonaws.com',
  stackName: 'RingTonicPortIn',
};

/** Returned by `Ref: AWS::NoValue`: the property (or list element) is dropped. */
const NO_VALUE = Symbol('AWS::NoValue');

/** The intrinsic functions {@link resolveIntrinsics} understands. */
const SUPPORTED = ['Ref', 'Fn::GetAtt', 'Fn::Join', 'Fn::Sub', 'Fn::Select', 'Fn::Split'] as const;

function pseudoParameter(name: string, pseudo: PseudoParameters): string | typeof NO_VALUE | undefined {
  switch (name) {
    case 'AWS::Region':
      return pseudo.region;
    case 'AWS::AccountId':
      return pseudo.accountId;
    case 'AWS::Partition':
      return pseudo.partition;
    case 'AWS::URLSuffix':
      return pseudo.urlSuffix ?? 'amazonaws.com';
    case 'AWS::StackName':
      return pseudo.stackName ?? 'RingTonicPortIn';
    case 'AWS::StackId':
      return `arn:${pseudo.partition}:cloudformation:${pseudo.region}:${pseudo.accountId}:stack/${pseudo.stackName ?? 'RingTonicPortIn'}/00000000-0000-0000-0000-000000000000`;
    case 'AWS::NoValue':
      return NO_VALUE;
    default:
      return undefined;
  }
}

function isIntrinsicKey(key: string): boolean {
  return key === 'Ref' || key.startsWith('Fn::');
}

/**
 * Replaces the CloudFormation intrinsic functions in a template fragment by plain values: `Ref`, `Fn::GetAtt`,
 * `Fn::Join`, `Fn::Sub` (with and without a variable map), `Fn::Select`, `Fn::Split` and the pseudo parameters
 * (`AWS::Region`, `AWS::AccountId`, `AWS::Partition`, `AWS::URLSuffix`, `AWS::StackName`, `AWS::StackId`,
 * `AWS::NoValue`). Anything else (`Fn::If`, `Fn::ImportValue`, ...) throws, naming the function and where it
 * was, rather than leaving an object where a string should be.
 */
export function resolveIntrinsics(
  value: unknown,
  resolver: IntrinsicResolver,
  pseudo: PseudoParameters = LOCAL_PSEUDO_PARAMETERS,
): unknown {
  const resolved = resolveAt(value, '$', resolver, pseudo);
  return resolved === NO_VALUE ? undefined : resolved;
}

function resolveAt(value: unknown, at: string, resolver: IntrinsicResolver, pseudo: PseudoParameters): unknown {
  if (Array.isArray(value)) {
    return value.map((item, i) => resolveAt(item, `${at}[${i}]`, resolver, pseudo)).filter((item) => item !== NO_VALUE);
  }
  if (value === null || typeof value !== 'object') return value;

  const entries = Object.entries(value as Record<string, unknown>);
  const first = entries[0];
  if (entries.length === 1 && first && isIntrinsicKey(first[0])) {
    return resolveIntrinsic(first[0], first[1], `${at}.${first[0]}`, resolver, pseudo);
  }
  const out: Record<string, unknown> = {};
  for (const [key, item] of entries) {
    const resolved = resolveAt(item, `${at}.${key}`, resolver, pseudo);
    if (resolved !== NO_VALUE) out[key] = resolved;
  }
  return out;
}

function resolveIntrinsic(
  name: string,
  args: unknown,
  at: string,
  resolver: IntrinsicResolver,
  pseudo: PseudoParameters,
): unknown {
  const fail = (problem: string): never => {
    throw new Error(`Cannot resolve ${name} at ${at}: ${problem}`);
  };
  const resolveArg = (arg: unknown, where: string) => resolveAt(arg, `${at}${where}`, resolver, pseudo);
  const asString = (arg: unknown, where: string): string => {
    const resolved = resolveArg(arg, where);
    if (typeof resolved === 'string') return resolved;
    if (typeof resolved === 'number' || typeof resolved === 'boolean') return String(resolved);
    return fail(`expected a string at ${where || 'its argument'}, got ${JSON.stringify(resolved)}`);
  };
  const asList = (arg: unknown, where: string): unknown[] => {
    const resolved = resolveArg(arg, where);
    return Array.isArray(resolved) ? resolved : fail(`expected a list at ${where}, got ${JSON.stringify(resolved)}`);
  };
  const twoArgs = (): [unknown, unknown] =>
    Array.isArray(args) && args.length === 2 ? [args[0], args[1]] : fail('expected a list of two arguments');

  switch (name) {
    case 'Ref': {
      if (typeof args !== 'string') return fail('expected a logical id or pseudo parameter name');
      return pseudoParameter(args, pseudo) ?? resolver.ref(args);
    }
    case 'Fn::GetAtt': {
      let logicalId: unknown;
      let attribute: unknown;
      if (typeof args === 'string') {
        // "Logical.Attr.With.Dots": the logical id has no dots, the attribute may (Endpoint.Address).
        const dot = args.indexOf('.');
        if (dot < 1) return fail(`expected "LogicalId.Attribute", got "${args}"`);
        [logicalId, attribute] = [args.slice(0, dot), args.slice(dot + 1)];
      } else {
        const [id, attr] = twoArgs();
        logicalId = id;
        attribute = typeof attr === 'string' ? attr : asString(attr, '[1]');
      }
      if (typeof logicalId !== 'string' || typeof attribute !== 'string')
        return fail('expected [logicalId, attribute]');
      return resolver.getAtt(logicalId, attribute);
    }
    case 'Fn::Join': {
      const [delimiter, list] = twoArgs();
      if (typeof delimiter !== 'string') return fail('the delimiter must be a string');
      return asList(list, '[1]')
        .map((item, i) => {
          if (typeof item === 'string' || typeof item === 'number' || typeof item === 'boolean') return String(item);
          return fail(`element ${i} of the list is not a string: ${JSON.stringify(item)}`);
        })
        .join(delimiter);
    }
    case 'Fn::Sub': {
      let text: unknown;
      let variables: Record<string, unknown> = {};
      if (typeof args === 'string') text = args;
      else {
        const [template, map] = twoArgs();
        text = template;
        if (map === null || typeof map !== 'object' || Array.isArray(map))
          return fail('the variable map must be an object');
        variables = map as Record<string, unknown>;
      }
      if (typeof text !== 'string') return fail('the template must be a string');
      return text.replace(/\$\{([^}]*)\}/g, (_match, inner: string) => {
        // ${!Literal} writes "${Literal}".
        if (inner.startsWith('!')) return `\${${inner.slice(1)}}`;
        const key = inner.trim();
        if (Object.hasOwn(variables, key)) return asString(variables[key], `[1].${key}`);
        const pseudoValue = pseudoParameter(key, pseudo);
        if (typeof pseudoValue === 'string') return pseudoValue;
        if (pseudoValue === NO_VALUE) return fail('AWS::NoValue cannot be substituted into a string');
        const dot = key.indexOf('.');
        return dot > 0 ? resolver.getAtt(key.slice(0, dot), key.slice(dot + 1)) : resolver.ref(key);
      });
    }
    case 'Fn::Select': {
      const [indexArg, list] = twoArgs();
      const rawIndex = resolveArg(indexArg, '[0]');
      const index = typeof rawIndex === 'string' ? Number(rawIndex) : rawIndex;
      if (typeof index !== 'number' || !Number.isInteger(index) || index < 0) {
        return fail(`the index must be a whole number, got ${JSON.stringify(rawIndex)}`);
      }
      const items = asList(list, '[1]');
      if (index >= items.length) return fail(`index ${index} is out of range for a list of ${items.length}`);
      return items[index];
    }
    case 'Fn::Split': {
      const [delimiter, source] = twoArgs();
      if (typeof delimiter !== 'string' || delimiter === '') return fail('the delimiter must be a non-empty string');
      return asString(source, '[1]').split(delimiter);
    }
    default:
      return fail(
        `unsupported intrinsic (the local stack resolves ${SUPPORTED.join(', ')} and pseudo parameters only)`,
      );
  }
}
