import type { LosingCarrier } from '../../lambdas/domain/port-request';
import { type Portability, splitOrder } from '../../lambdas/domain/split-order';

const carrier = (name: string): LosingCarrier => ({
  name,
  customerName: 'Acme Plumbing LLC',
  authorizedRepresentative: 'Jane Doe',
  authorizedRepresentativeEmail: 'jane@acme.example',
  address: { street: '1 Main St', city: 'San Francisco', state: 'CA', zip: '94105', country: 'US' },
});

const local = (phoneNumber: string): Portability => ({
  phoneNumber,
  portable: true,
  numberType: 'LOCAL',
  pinAndAccountNumberRequired: false,
});

describe('splitOrder', () => {
  it('makes one port request per losing carrier', () => {
    const portability = new Map(['+14155550100', '+14155550101', '+14155550102'].map((n) => [n, local(n)]));
    const { drafts } = splitOrder(
      [
        {
          losingCarrier: carrier('CallRail'),
          numbers: [{ phoneNumber: '+14155550100' }, { phoneNumber: '+14155550101' }],
        },
        { losingCarrier: carrier('Marchex'), numbers: [{ phoneNumber: '+14155550102' }] },
      ],
      portability,
    );
    expect(drafts.map((d) => [d.losingCarrier.name, d.route, d.numbers.map((n) => n.phoneNumber)])).toEqual([
      ['CallRail', 'API', ['+14155550100', '+14155550101']],
      ['Marchex', 'API', ['+14155550102']],
    ]);
  });

  it('splits a carrier at 1,000 numbers', () => {
    const numbers = Array.from({ length: 2001 }, (_, i) => `+1415${String(2000000 + i).padStart(7, '0')}`);
    const portability = new Map(numbers.map((n) => [n, local(n)]));
    const { drafts } = splitOrder(
      [{ losingCarrier: carrier('CallRail'), numbers: numbers.map((phoneNumber) => ({ phoneNumber })) }],
      portability,
    );
    expect(drafts.map((d) => d.numbers.length)).toEqual([1000, 1000, 1]);
  });

  it('sets toll-free numbers aside in a MANUAL port request and lists the unportable', () => {
    const portability = new Map<string, Portability>([
      ['+14155550100', local('+14155550100')],
      [
        '+18005550100',
        {
          phoneNumber: '+18005550100',
          portable: false,
          numberType: 'TOLL_FREE',
          pinAndAccountNumberRequired: false,
          reasonCode: '22133',
          reason: 'manual porting available',
        },
      ],
      [
        '+14155559999',
        {
          phoneNumber: '+14155559999',
          portable: false,
          numberType: 'UNKNOWN',
          pinAndAccountNumberRequired: false,
          reasonCode: '22130',
          reason: 'unsupported',
        },
      ],
    ]);
    const result = splitOrder(
      [
        {
          losingCarrier: carrier('DialogTech'),
          pin: '1234',
          numbers: [
            { phoneNumber: '+14155550100', pin: '9876' },
            { phoneNumber: '+18005550100' },
            { phoneNumber: '+14155559999' },
          ],
        },
      ],
      portability,
    );
    expect(result.drafts.map((d) => [d.route, d.numbers.map((n) => n.phoneNumber)])).toEqual([
      ['API', ['+14155550100']],
      ['MANUAL', ['+18005550100']],
    ]);
    expect(result.drafts[0]?.pins).toEqual({ '+14155550100': '9876' });
    expect(result.drafts[1]?.pins).toEqual({ '+18005550100': '1234' });
    expect(result.notPortable).toEqual([{ phoneNumber: '+14155559999', reasonCode: '22130', reason: 'unsupported' }]);
  });
});
