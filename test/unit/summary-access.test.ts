import { testActor, testGrant } from '../support/actors';
import { campaignScope, mayReadRemediation, mayStartRemediation } from '../../src/modules/remediation/remediation.access';
import { bookAccess, mayReadCompleteness } from '../../src/modules/summary/summary.access';
import { csvCell, csvText, parseCsv } from '../../src/modules/summary/summary.csv';

const actor = testActor;
const grant = testGrant;
const INSURER = { id: 'INSURER-1', code: 'INS', kind: 'INSURER' as const };

describe('summary visibility (pure)', () => {
  it('the insurer sees its whole book; another insurer is FORBIDDEN, even for an unknown code', () => {
    expect(bookAccess(actor('INSURER', ['SALES']), INSURER, null, 'READ_COMPLETENESS')).toEqual({ insurerId: 'INSURER-1', insurerCode: 'INS', onlyChannelId: null });
    expect((bookAccess(actor('INSURER', ['ADMIN'], 'INSURER-2'), INSURER, null, 'READ_COMPLETENESS') as { code: string }).code).toBe('FORBIDDEN');
    expect((bookAccess(actor('INSURER', ['ADMIN'], 'INSURER-2'), null, null, 'READ_COMPLETENESS') as { code: string }).code).toBe('FORBIDDEN');
  });

  it('a partner sees its own book with the scope, AGREEMENT_INACTIVE without; the regulator any insurer; the exchange nothing', () => {
    expect(bookAccess(actor('BANK_CHANNEL', ['SALES'], 'BANK-1'), INSURER, grant('READ_COMPLETENESS'), 'READ_COMPLETENESS')).toMatchObject({ onlyChannelId: 'BANK-1' });
    expect((bookAccess(actor('BROKER', ['ADMIN']), INSURER, grant('READ_POLICIES'), 'READ_COMPLETENESS') as { code: string }).code).toBe('AGREEMENT_INACTIVE');
    expect(bookAccess(actor('REGULATOR', ['COMPLIANCE']), INSURER, null, 'READ_COMPLETENESS')).toMatchObject({ onlyChannelId: null });
    expect((bookAccess(actor('REGULATOR', ['COMPLIANCE']), null, null, 'READ_COMPLETENESS') as { code: string }).code).toBe('NOT_FOUND');
    expect((bookAccess(actor('EXCHANGE', ['ADMIN']), INSURER, null, 'READ_COMPLETENESS') as { code: string }).code).toBe('FORBIDDEN');
    expect(mayReadCompleteness(actor('EXCHANGE', ['ADMIN']))).toBe(false);
    expect(mayReadCompleteness(actor('BROKER', ['SALES']))).toBe(true);
  });
});

describe('campaign visibility (pure)', () => {
  it('insurer ADMIN/COMPLIANCE of its own insurer, the regulator: all rows', () => {
    expect(mayStartRemediation(actor('INSURER', ['COMPLIANCE'], 'INSURER-1'), 'INSURER-1')).toBe(true);
    expect(mayStartRemediation(actor('INSURER', ['SERVICE'], 'INSURER-1'), 'INSURER-1')).toBe(false);
    expect(mayStartRemediation(actor('INSURER', ['ADMIN'], 'INSURER-2'), 'INSURER-1')).toBe(false);
    expect(campaignScope(actor('INSURER', ['ADMIN'], 'INSURER-1'), 'INSURER-1', null)).toEqual({ all: true });
    expect(campaignScope(actor('REGULATOR', ['COMPLIANCE']), 'INSURER-1', null)).toEqual({ all: true });
    expect(campaignScope(actor('INSURER', ['ADMIN'], 'INSURER-2'), 'INSURER-1', null)).toBeNull();
  });

  it('a partner: its own rows under any ACTIVE agreement, for ADMIN, COMPLIANCE or SERVICE', () => {
    expect(campaignScope(actor('BROKER', ['SERVICE'], 'BR-1'), 'INSURER-1', grant('CORRECT_RECORDS'))).toEqual({ all: false, channelId: 'BR-1' });
    expect(campaignScope(actor('BROKER', ['SERVICE'], 'BR-1'), 'INSURER-1', grant())).toBeNull();
    expect(campaignScope(actor('BANK_CHANNEL', ['SALES'], 'BK-1'), 'INSURER-1', grant('SUBMIT_SALES'))).toBeNull();
    expect(mayReadRemediation(actor('BANK_CHANNEL', ['SALES']))).toBe(false);
    expect(mayReadRemediation(actor('EXCHANGE', ['ADMIN']))).toBe(false);
  });
});

describe('CSV (pure)', () => {
  it('quotes what needs quoting, defuses formulas, and reads back', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('=1+1')).toBe("'=1+1");
    expect(csvCell(-3)).toBe('-3');
    expect(csvCell(null)).toBe('');
    const text = csvText(['a', 'b'], [['x,y', 2], ['line\nbreak', null]]);
    expect(text).toBe('a,b\r\n"x,y",2\r\n"line\nbreak",\r\n');
    expect(parseCsv(text)).toEqual([['a', 'b'], ['x,y', '2'], ['line\nbreak', '']]);
  });
});
