import type { Actor } from '../../src/auth/actor';
import { checkSign, checkTerminate, mayViewAgreement } from '../../src/modules/agreement/agreement.access';
import { AGREEMENT_SCOPES, type AgreementEntity } from '../../src/modules/agreement/agreement.entity';
import {
  agreementStatus,
  counterpartyOf,
  formatScopes,
  isActiveAt,
  NO_GRANT,
  OWN_GRANT,
  parseScopes,
  sideOf,
  unionGrant,
  type AgreementState,
} from '../../src/modules/agreement/agreement.status';
import { validateProposal } from '../../src/modules/agreement/agreement.service';
import type { AppError } from '../../src/graphql/errors';

const T = (iso: string) => new Date(iso);
const NOW = T('2026-03-01T12:00:00.000Z');

function state(over: Partial<AgreementState> = {}): AgreementState {
  return {
    validFrom: T('2026-01-01T00:00:00.000Z'),
    validTo: T('2027-01-01T00:00:00.000Z'),
    insurerSignedAt: T('2025-12-01T00:00:00.000Z'),
    partnerSignedAt: T('2025-12-02T00:00:00.000Z'),
    terminatedAt: null,
    ...over,
  };
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return (error as AppError).extensions?.code as string;
  }
  return undefined;
}

describe('agreementStatus', () => {
  it('is ACTIVE when both signed, not terminated and validFrom <= now < validTo', () => {
    expect(agreementStatus(state(), NOW)).toBe('ACTIVE');
    expect(isActiveAt(state(), NOW)).toBe(true);
  });

  it('is ACTIVE from validFrom exactly, and EXPIRED from validTo exactly (exclusive end)', () => {
    expect(agreementStatus(state({ validFrom: NOW }), NOW)).toBe('ACTIVE');
    expect(agreementStatus(state({ validTo: NOW }), NOW)).toBe('EXPIRED');
    expect(agreementStatus(state({ validTo: new Date(NOW.getTime() + 1) }), NOW)).toBe('ACTIVE');
  });

  it('is PROPOSED until both sides signed, even inside or after the window', () => {
    expect(agreementStatus(state({ partnerSignedAt: null }), NOW)).toBe('PROPOSED');
    expect(agreementStatus(state({ insurerSignedAt: null }), NOW)).toBe('PROPOSED');
    expect(agreementStatus(state({ partnerSignedAt: null, validTo: T('2026-02-01T00:00:00.000Z') }), NOW)).toBe('PROPOSED');
  });

  it('is PROPOSED when both signed but the window has not opened yet', () => {
    expect(agreementStatus(state({ validFrom: T('2026-04-01T00:00:00.000Z') }), NOW)).toBe('PROPOSED');
    expect(isActiveAt(state({ validFrom: T('2026-04-01T00:00:00.000Z') }), NOW)).toBe(false);
  });

  it('is TERMINATED once terminated, whatever the signatures and window', () => {
    expect(agreementStatus(state({ terminatedAt: NOW }), NOW)).toBe('TERMINATED');
    expect(agreementStatus(state({ terminatedAt: NOW, partnerSignedAt: null }), NOW)).toBe('TERMINATED');
    expect(agreementStatus(state({ terminatedAt: NOW, validTo: T('2026-02-01T00:00:00.000Z') }), NOW)).toBe('TERMINATED');
  });

  it('is EXPIRED after validTo when both signed', () => {
    expect(agreementStatus(state({ validTo: T('2026-02-01T00:00:00.000Z') }), NOW)).toBe('EXPIRED');
  });
});

describe('scopes', () => {
  it('are stored deduplicated in contract order and read back the same', () => {
    expect(formatScopes(['VIEW_FULL_PII', 'SUBMIT_SALES', 'VIEW_FULL_PII'])).toBe('SUBMIT_SALES,VIEW_FULL_PII');
    expect(parseScopes('SUBMIT_SALES,VIEW_FULL_PII')).toEqual(['SUBMIT_SALES', 'VIEW_FULL_PII']);
    expect(parseScopes(formatScopes(AGREEMENT_SCOPES))).toEqual([...AGREEMENT_SCOPES]);
  });

  it('never grant an unknown stored value', () => {
    expect(parseScopes('SUBMIT_SALES,ALL,,read_policies')).toEqual(['SUBMIT_SALES']);
  });
});

describe('unionGrant', () => {
  it('is the union of the scopes of overlapping agreements, naming all of them', () => {
    const grant = unionGrant([
      { id: 'b', scopes: 'SUBMIT_SALES,READ_POLICIES' },
      { id: 'a', scopes: 'READ_POLICIES,VIEW_FULL_PII' },
    ]);
    expect([...grant.scopes].sort()).toEqual(['READ_POLICIES', 'SUBMIT_SALES', 'VIEW_FULL_PII']);
    expect(grant.agreementIds).toEqual(['a', 'b']);
  });

  it('is empty for no agreement; the insurer holds every scope on itself', () => {
    expect(unionGrant([])).toBe(NO_GRANT);
    expect(NO_GRANT.scopes.size).toBe(0);
    expect([...OWN_GRANT.scopes]).toEqual([...AGREEMENT_SCOPES]);
    expect(OWN_GRANT.agreementIds).toEqual([]);
  });
});

describe('sides', () => {
  const a = { insurerId: 'ins', partnerId: 'par' };
  it('names the side of each party and none for a third party', () => {
    expect(sideOf(a, 'ins')).toBe('INSURER');
    expect(sideOf(a, 'par')).toBe('PARTNER');
    expect(sideOf(a, 'other')).toBeNull();
    expect(counterpartyOf(a, 'ins')).toBe('par');
    expect(counterpartyOf(a, 'par')).toBe('ins');
  });
});

describe('validateProposal', () => {
  const later = (ms: number) => new Date(NOW.getTime() + ms);
  it('deduplicates the scopes', () => {
    expect(validateProposal({ scopes: ['READ_POLICIES', 'SUBMIT_SALES', 'READ_POLICIES'], validFrom: NOW, validTo: later(1) }, NOW)).toEqual(['SUBMIT_SALES', 'READ_POLICIES']);
  });

  it.each([
    ['no scope', { scopes: [], validFrom: NOW, validTo: later(1000) }],
    ['an unknown scope', { scopes: ['EVERYTHING'], validFrom: NOW, validTo: later(1000) }],
    ['validFrom = validTo', { scopes: ['SUBMIT_SALES'], validFrom: later(1000), validTo: later(1000) }],
    ['validFrom > validTo', { scopes: ['SUBMIT_SALES'], validFrom: later(2000), validTo: later(1000) }],
    ['validTo in the past', { scopes: ['SUBMIT_SALES'], validFrom: later(-2000), validTo: later(-1000) }],
    ['validTo = now', { scopes: ['SUBMIT_SALES'], validFrom: later(-2000), validTo: NOW }],
    ['an invalid date', { scopes: ['SUBMIT_SALES'], validFrom: new Date('x'), validTo: later(1000) }],
    ['a year past 9999', { scopes: ['SUBMIT_SALES'], validFrom: NOW, validTo: T('+010000-01-01T00:00:00.000Z') }],
  ])('refuses %s with BAD_USER_INPUT', (_name, input) => {
    expect(codeOf(() => validateProposal(input, NOW))).toBe('BAD_USER_INPUT');
  });
});

describe('who may see, sign and terminate', () => {
  const actor = (organizationId: string, roles: Actor['roles'] = ['ADMIN'], kind: Actor['organizationKind'] = 'BROKER'): Actor => ({
    principalId: `p-${organizationId}`,
    name: 'x',
    organizationId,
    organizationCode: organizationId.toUpperCase(),
    organizationKind: kind,
    roles,
    attestedAt: null,
    isBootstrap: false,
  });
  const insurerAdmin = actor('ins', ['ADMIN'], 'INSURER');
  const partnerAdmin = actor('par');
  const exchangeAdmin = actor('exc', ['ADMIN'], 'EXCHANGE');
  const agreement = (over: Partial<AgreementEntity> = {}) =>
    ({
      id: 'a1',
      insurerId: 'ins',
      partnerId: 'par',
      proposedByOrganizationId: 'ins',
      ...state({ partnerSignedAt: null }),
      ...over,
    }) as AgreementEntity;

  it('shows an agreement to every principal of the parties and to the EXCHANGE ADMIN only', () => {
    expect(mayViewAgreement(insurerAdmin, agreement())).toBe(true);
    expect(mayViewAgreement(partnerAdmin, agreement())).toBe(true);
    expect(mayViewAgreement(exchangeAdmin, agreement())).toBe(true);
    expect(mayViewAgreement(actor('par', ['SALES']), agreement())).toBe(true);
    expect(mayViewAgreement(actor('ins', ['COMPLIANCE'], 'INSURER'), agreement())).toBe(true);
    expect(mayViewAgreement(actor('exc', ['COMPLIANCE'], 'EXCHANGE'), agreement())).toBe(false);
    expect(mayViewAgreement(actor('third'), agreement())).toBe(false);
  });

  it('lets only the other party\'s ADMIN sign', () => {
    expect(checkSign(partnerAdmin, agreement(), NOW)).toBe('PARTNER');
    expect(checkSign(insurerAdmin, agreement({ proposedByOrganizationId: 'par', insurerSignedAt: null, partnerSignedAt: NOW }), NOW)).toBe('INSURER');
    expect(codeOf(() => checkSign(insurerAdmin, agreement(), NOW))).toBe('FORBIDDEN');
    expect(codeOf(() => checkSign(exchangeAdmin, agreement(), NOW))).toBe('FORBIDDEN');
    expect(codeOf(() => checkSign(actor('third'), agreement(), NOW))).toBe('NOT_FOUND');
    // A party's principal who is not an ADMIN sees the agreement but may not change it.
    expect(codeOf(() => checkSign(actor('par', ['SALES']), agreement(), NOW))).toBe('FORBIDDEN');
  });

  it('refuses to sign a terminated agreement or one past its validTo', () => {
    expect(codeOf(() => checkSign(partnerAdmin, agreement({ terminatedAt: NOW }), NOW))).toBe('BAD_USER_INPUT');
    expect(codeOf(() => checkSign(partnerAdmin, agreement({ validTo: NOW }), NOW))).toBe('BAD_USER_INPUT');
  });

  it('lets either party\'s ADMIN terminate, once', () => {
    expect(checkTerminate(insurerAdmin, agreement())).toBe('INSURER');
    expect(checkTerminate(partnerAdmin, agreement())).toBe('PARTNER');
    expect(codeOf(() => checkTerminate(partnerAdmin, agreement({ terminatedAt: NOW })))).toBe('BAD_USER_INPUT');
    expect(codeOf(() => checkTerminate(exchangeAdmin, agreement()))).toBe('FORBIDDEN');
    expect(codeOf(() => checkTerminate(actor('third'), agreement()))).toBe('NOT_FOUND');
    expect(codeOf(() => checkTerminate(actor('ins', ['UNDERWRITER'], 'INSURER'), agreement()))).toBe('FORBIDDEN');
  });
});
