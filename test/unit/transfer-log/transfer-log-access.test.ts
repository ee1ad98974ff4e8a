import type { Actor } from '../../../src/auth/actor';
import type { OrganizationKind } from '../../../src/modules/organization/organization.entity';
import type { Role } from '../../../src/modules/principal/principal.entity';
import { mayReadChain, mayUseTransferLog } from '../../../src/modules/transfer-log/transfer-log.access';

function actor(kind: OrganizationKind, roles: Role[], organizationId = 'org-1'): Actor {
  return { principalId: 'p', name: 'n', organizationId, organizationCode: 'C', organizationKind: kind, roles, attestedAt: null, isBootstrap: false };
}
const insurer = { id: 'org-1', kind: 'INSURER' as const };
const otherInsurer = { id: 'org-2', kind: 'INSURER' as const };
const exchange = { id: 'ex', kind: 'EXCHANGE' as const };
const bank = { id: 'org-1', kind: 'BANK_CHANNEL' as const };

describe('transfer log permissions', () => {
  it.each([
    ['insurer ADMIN, own', actor('INSURER', ['ADMIN']), insurer, true],
    ['insurer COMPLIANCE, own', actor('INSURER', ['COMPLIANCE']), insurer, true],
    ['insurer ADMIN, another insurer', actor('INSURER', ['ADMIN']), otherInsurer, false],
    ['insurer ADMIN, the exchange chain', actor('INSURER', ['ADMIN']), exchange, false],
    ['insurer SALES, own', actor('INSURER', ['SALES']), insurer, false],
    ['insurer SERVICE+UNDERWRITER, own', actor('INSURER', ['SERVICE', 'UNDERWRITER']), insurer, false],
    ['REGULATOR, any insurer', actor('REGULATOR', ['COMPLIANCE'], 'reg'), otherInsurer, true],
    ['REGULATOR, the exchange chain', actor('REGULATOR', ['ADMIN'], 'reg'), exchange, true],
    ['EXCHANGE ADMIN, the exchange chain', actor('EXCHANGE', ['ADMIN'], 'ex'), exchange, true],
    ['EXCHANGE ADMIN, an insurer', actor('EXCHANGE', ['ADMIN'], 'ex'), insurer, false],
    ['bank ADMIN, an insurer', actor('BANK_CHANNEL', ['ADMIN'], 'bank'), insurer, false],
    ['broker ADMIN, an insurer', actor('BROKER', ['ADMIN'], 'broker'), insurer, false],
    ['anyone, a bank "chain"', actor('REGULATOR', ['ADMIN'], 'reg'), bank, false],
  ])('%s → %s', (_label, who, chain, expected) => {
    expect(mayReadChain(who, chain)).toBe(expected);
    // The coarse gate never refuses someone the fine check would allow.
    if (expected) expect(mayUseTransferLog(who)).toBe(true);
  });

  it('the coarse gate lets through only insurer ADMIN/COMPLIANCE, REGULATOR and EXCHANGE ADMIN', () => {
    expect(mayUseTransferLog(actor('INSURER', ['SALES']))).toBe(false);
    expect(mayUseTransferLog(actor('BANK_CHANNEL', ['ADMIN']))).toBe(false);
    expect(mayUseTransferLog(actor('BROKER', ['ADMIN', 'COMPLIANCE']))).toBe(false);
    expect(mayUseTransferLog(actor('EXCHANGE', ['COMPLIANCE']))).toBe(false);
    expect(mayUseTransferLog(actor('REGULATOR', ['SALES']))).toBe(true);
  });
});
