import type { PiiDisclosure } from './person.type';

/** What one response disclosed in full to a partner for one insurer: the READ_PII entry of that insurer's chain. */
export interface PiiRead {
  insurerId: string;
  agreementId: string | null;
  policyNos: string[];
  fields: string[];
}

interface PendingRead {
  insurerId: string;
  agreementId: string | null;
  policyNos: Set<string>;
  fields: Set<string>;
}

/**
 * The whole ID numbers and phones one request has shown, made fresh with its
 * context so nothing outlives the request. The mappers record while the
 * response is being built; the READ_PII plugin takes it all once, before the
 * response is sent.
 */
export class PiiDisclosures {
  private byInsurer = new Map<string, PendingRead>();

  /** Notes that `field` (e.g. `policyholder.idNumber`) of `disclosure.policyNo` was shown whole to the calling partner. */
  record(disclosure: PiiDisclosure, field: string): void {
    let read = this.byInsurer.get(disclosure.insurerId);
    if (!read) {
      read = { insurerId: disclosure.insurerId, agreementId: disclosure.agreementId, policyNos: new Set(), fields: new Set() };
      this.byInsurer.set(disclosure.insurerId, read);
    }
    read.policyNos.add(disclosure.policyNo);
    read.fields.add(field);
  }

  /** Takes (and forgets) what was recorded, per insurer in id order (the lock order of their chains). */
  take(): PiiRead[] {
    const reads = [...this.byInsurer.values()];
    this.byInsurer = new Map();
    return reads
      .sort((a, b) => (a.insurerId < b.insurerId ? -1 : a.insurerId > b.insurerId ? 1 : 0))
      .map((r) => ({ insurerId: r.insurerId, agreementId: r.agreementId, policyNos: [...r.policyNos].sort(), fields: [...r.fields].sort() }));
  }
}
