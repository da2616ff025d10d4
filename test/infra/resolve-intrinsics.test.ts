// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation's ${...} syntax is the subject here.
import { type IntrinsicResolver, resolveIntrinsics } from '../../local/cloudformation/resolve';

const resolver: IntrinsicResolver = {
  ref: (logicalId) => `ref(${logicalId})`,
  getAtt: (logicalId, attribute) => `att(${logicalId},${attribute})`,
};
const pseudo = { region: 'eu-west-1', accountId: '111122223333', partition: 'aws-cn' };
const resolve = (value: unknown) => resolveIntrinsics(value, resolver, pseudo);

describe('resolveIntrinsics', () => {
  it('leaves plain JSON as it is', () => {
    const plain = { a: [1, 'two', { three: true, four: null }], b: 'x' };
    expect(resolve(plain)).toEqual(plain);
  });

  it('resolves Ref to a resource through the resolver', () => {
    expect(resolve({ Ref: 'MyTable' })).toBe('ref(MyTable)');
  });

  it.each([
    ['AWS::Region', 'eu-west-1'],
    ['AWS::AccountId', '111122223333'],
    ['AWS::Partition', 'aws-cn'],
    ['AWS::URLSuffix', 'amazonaws.com'],
    ['AWS::StackName', 'RingTonicPortIn'],
  ])('resolves the pseudo parameter %s', (name, value) => {
    expect(resolve({ Ref: name })).toBe(value);
  });

  it('uses local defaults for pseudo parameters when none are given', () => {
    expect(resolveIntrinsics({ Ref: 'AWS::Region' }, resolver)).toBe('us-east-1');
  });

  it('drops properties and list elements that are AWS::NoValue', () => {
    expect(resolve({ keep: 1, drop: { Ref: 'AWS::NoValue' }, list: ['a', { Ref: 'AWS::NoValue' }, 'b'] })).toEqual({
      keep: 1,
      list: ['a', 'b'],
    });
  });

  it('resolves Fn::GetAtt in list and dotted string form, attributes with dots included', () => {
    expect(resolve({ 'Fn::GetAtt': ['Fn1', 'Arn'] })).toBe('att(Fn1,Arn)');
    expect(resolve({ 'Fn::GetAtt': 'Db.Endpoint.Address' })).toBe('att(Db,Endpoint.Address)');
  });

  it('resolves Fn::Join over nested intrinsics', () => {
    expect(
      resolve({
        'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':states:', { Ref: 'AWS::Region' }, ':', { Ref: 'Sm' }]],
      }),
    ).toBe('arn:aws-cn:states:eu-west-1:ref(Sm)');
    expect(resolve({ 'Fn::Join': [',', [1, 'b', true]] })).toBe('1,b,true');
  });

  it('resolves Fn::Sub without a variable map: pseudo parameters, Refs, GetAtts and ${!literals}', () => {
    expect(
      resolve({ 'Fn::Sub': 'arn:${AWS::Partition}:x:${AWS::Region}:${AWS::AccountId}:${Queue}/${Fn.Arn}/${!Keep}' }),
    ).toBe('arn:aws-cn:x:eu-west-1:111122223333:ref(Queue)/att(Fn,Arn)/${Keep}');
  });

  it('resolves Fn::Sub with a variable map whose values are intrinsics', () => {
    expect(
      resolve({
        'Fn::Sub': ['${Api}.execute-api.${AWS::Region}.${Suffix}', { Api: { Ref: 'RestApi' }, Suffix: 'example' }],
      }),
    ).toBe('ref(RestApi).execute-api.eu-west-1.example');
  });

  it('resolves Fn::Select and Fn::Split, alone and together', () => {
    expect(resolve({ 'Fn::Select': [1, ['a', 'b', 'c']] })).toBe('b');
    expect(resolve({ 'Fn::Select': ['0', ['a']] })).toBe('a');
    expect(resolve({ 'Fn::Split': ['/', 'a/b/c'] })).toEqual(['a', 'b', 'c']);
    // As CDK writes "the last part of an ARN".
    expect(resolve({ 'Fn::Select': [1, { 'Fn::Split': ['/', { 'Fn::Sub': 'role/${Name}' }] }] })).toBe('ref(Name)');
    expect(resolve({ 'Fn::Select': [2, { 'Fn::Split': [':', { 'Fn::Sub': 'a:b:${AWS::Region}' }] }] })).toBe(
      'eu-west-1',
    );
  });

  it('resolves intrinsics deep inside objects and lists', () => {
    expect(resolve({ Variables: { TABLE_NAME: { Ref: 'Table' }, LIST: [{ 'Fn::GetAtt': ['Q', 'Arn'] }] } })).toEqual({
      Variables: { TABLE_NAME: 'ref(Table)', LIST: ['att(Q,Arn)'] },
    });
  });

  it.each([
    [{ 'Fn::If': ['IsProd', 'a', 'b'] }, /Fn::If.*unsupported/],
    [{ 'Fn::ImportValue': 'Shared-Export' }, /Fn::ImportValue/],
    [{ 'Fn::Base64': 'x' }, /Fn::Base64/],
    [{ nested: [{ 'Fn::FindInMap': ['M', 'k', 'v'] }] }, /\$\.nested\[0\]\.Fn::FindInMap/],
    [{ 'Fn::Select': [5, ['a']] }, /out of range/],
    [{ 'Fn::Join': ['', [{ 'Fn::Split': [',', 'a,b'] }]] }, /not a string/],
    [{ Ref: 42 }, /Ref/],
  ])('refuses %j with a clear error', (value, message) => {
    expect(() => resolve(value)).toThrow(message);
  });
});
