import { testActor, testGrant } from '../support/actors';
import { NO_GRANT } from '../../src/modules/agreement/agreement.status';
import { FULL_VIEW, MASKED_VIEW, mayUnderwrite, piiViewOf, policyReadScope } from '../../src/modules/policy/policy.access';

const actor = testActor;
const grant = testGrant;

describe('policy read scope (pure)', () => {
  it('an insurer\'s principals read their own insurer\'s whole book, and nothing of another named insurer', () => {
    const insurer = actor('INSURER', ['SALES'], 'INS-1');
    expect(policyReadScope(insurer, null, [])).toEqual({ insurerIds: ['INS-1'], channelId: null });
    expect(policyReadScope(insurer, { id: 'INS-1' }, [])).toEqual({ insurerIds: ['INS-1'], channelId: null });
    expect(policyReadScope(insurer, { id: 'INS-2' }, ['INS-2'])).toBeNull();
  });

  it('a partner reads only its own sales of the insurers granting it READ_POLICIES (narrowed to a named one)', () => {
    const bank = actor('BANK_CHANNEL', ['SERVICE'], 'BANK-1');
    expect(policyReadScope(bank, null, ['INS-1', 'INS-2'])).toEqual({ insurerIds: ['INS-1', 'INS-2'], channelId: 'BANK-1' });
    expect(policyReadScope(bank, { id: 'INS-2' }, ['INS-1', 'INS-2'])).toEqual({ insurerIds: ['INS-2'], channelId: 'BANK-1' });
    expect(policyReadScope(bank, { id: 'INS-3' }, ['INS-1'])).toBeNull();
    expect(policyReadScope(actor('BROKER', ['ADMIN']), null, [])).toBeNull();
  });

  it('EXCHANGE and REGULATOR principals read no policies, so never a person\'s field', () => {
    for (const kind of ['EXCHANGE', 'REGULATOR'] as const) {
      expect(policyReadScope(actor(kind, ['ADMIN', 'COMPLIANCE']), null, ['INS-1'])).toBeNull();
      expect(policyReadScope(actor(kind, ['ADMIN']), { id: 'INS-1' }, ['INS-1'])).toBeNull();
    }
  });
});

describe('PII view (pure)', () => {
  it('the insurer sees its own people whole, with no disclosure to log', () => {
    expect(piiViewOf(actor('INSURER', ['SERVICE'], 'INS-1'), 'INS-1', NO_GRANT)('P-1')).toBe(FULL_VIEW);
  });

  it('a partner sees them whole only under VIEW_FULL_PII, as a disclosure naming the policy and the agreement', () => {
    const broker = actor('BROKER', ['SERVICE'], 'BR-1');
    expect(piiViewOf(broker, 'INS-1', grant('READ_POLICIES', 'VIEW_FULL_PII'))('P-1')).toEqual({ mode: 'FULL', disclosure: { insurerId: 'INS-1', policyNo: 'P-1', agreementId: 'a-1' } });
    expect(piiViewOf(broker, 'INS-1', grant('READ_POLICIES'))('P-1')).toBe(MASKED_VIEW);
  });

  it('anyone else sees them masked, whatever grant is passed', () => {
    expect(piiViewOf(actor('REGULATOR', ['COMPLIANCE']), 'INS-1', grant('VIEW_FULL_PII'))('P-1')).toBe(MASKED_VIEW);
    expect(piiViewOf(actor('INSURER', ['ADMIN'], 'INS-2'), 'INS-1', grant('VIEW_FULL_PII'))('P-1')).toBe(MASKED_VIEW);
  });
});

describe('underwriting gate (pure)', () => {
  it('only an UNDERWRITER of an insurer', () => {
    expect(mayUnderwrite(actor('INSURER', ['UNDERWRITER']))).toBe(true);
    expect(mayUnderwrite(actor('INSURER', ['ADMIN', 'COMPLIANCE']))).toBe(false);
    expect(mayUnderwrite(actor('BROKER', ['UNDERWRITER']))).toBe(false);
  });
});
