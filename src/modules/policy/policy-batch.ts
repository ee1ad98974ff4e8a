/**
 * The batch write of submitSales (issue 4 item 5), in phases under the
 * insurer's chain lock: the existing policies of the batch's numbers, the
 * people matched by identity and merged (`domain/person-merge`), the phone
 * sharing before and after, the multi-row writes of people, policies,
 * beneficiaries and missing-field rows, and the re-flag of other policies
 * the batch moved. A constant number of statements per batch (per chunk).
 */
import { In, type EntityManager } from 'typeorm';
import { CHUNK_IN, chunk, insertRows, upsertRows } from '../../db/bulk';
import { newId } from '../../db/ids';
import { assessFromFacts, isPhoneShared, type Completeness } from '../../domain/completeness';
import { mergeClearFields } from '../../domain/person-merge';
import { PERSON_FIELDS, personFacts, type FactKey, type FactPerson, type PersonFacts } from '../../domain/person-facts';
import type { PiiCipher, Sealed } from '../person/pii';
import { PersonEntity } from './person.entity';
import {
  blankOf,
  factPersonOf,
  issuesJson,
  PERSON_OVERWRITE,
  phoneHolders,
  policiesTouching,
  POLICY_OVERWRITE,
  recomputePolicies,
  rewriteMissing,
  sellerKey,
  sellerPhones,
  settlePersonKey,
  storedFacts,
} from './policy-store';
import { PolicyBeneficiaryEntity, PolicyEntity } from './policy.entity';
import type { CleanPerson, CleanRecord, FieldErrorData } from './policy.validation';
import type { Reflagged } from './policy-reflag';

/** One record's verdict in a {@link SubmitSalesResult} (contract `SalesRecordResult`). */
export interface SalesRecordOutcome {
  policyNo: string;
  accepted: boolean;
  errors: FieldErrorData[];
  completeness: Completeness | null;
  /** The stored record's version; null when rejected. */
  version: number | null;
}

/** Where a batch goes: the insurer's book, the channel that sold it (null: the insurer sold it directly), the batch's id. */
export interface BatchTarget {
  insurerId: string;
  channelId: string | null;
  batchId: string;
}

/** What a batch wrote, for its log entries: the accepted policies, the other policies it re-flagged, the field paths given. */
export interface BatchWritten {
  accepted: Array<{ policyNo: string; version: number; completeness: string }>;
  reflagged: Reflagged[];
  fields: string[];
}
/** A person of an incoming record, sealed and indexed before the transaction opens. */
export interface PreparedPerson {
  clean: CleanPerson;
  idBidx: string | null;
  phoneBidx: string | null;
  idEnc: Sealed | null;
  phoneEnc: Sealed | null;
  facts: PersonFacts;
}

export interface PreparedRecord {
  index: number;
  record: CleanRecord;
  policyholder: PreparedPerson;
  insured: PreparedPerson;
  beneficiaries: PreparedPerson[];
}

/** A person row as this batch leaves it. */
interface PersonState {
  row: PersonEntity;
  facts: PersonFacts;
  /** Must be written (new, or an existing row whose values changed). */
  dirty: boolean;
  /** An existing row whose values changed: other policies naming it are recomputed. */
  changed: boolean;
  /** phone_bidx of the row before this batch (existing rows). */
  phoneBefore: string | null;
  isNew: boolean;
}

/** Seals and indexes a record's people and computes their facts (CPU only, before the transaction). */
export function prepareRecord(pii: PiiCipher, index: number, record: CleanRecord, today: string): PreparedRecord {
  const person = (clean: CleanPerson): PreparedPerson => {
    const phoneBidx = pii.phoneIndex(clean.phone);
    // The phone's fact key is its blind index (PiiCipher.factKey): reuse it rather than a second HMAC (HMACs were ~4% of ingest CPU).
    const key: FactKey = (kind, value) => (kind === 'phone' && phoneBidx !== null ? phoneBidx : pii.factKey(kind, value));
    return {
      clean,
      idBidx: pii.idIndex(clean.idType, clean.idNumber),
      phoneBidx,
      idEnc: pii.encryptNullable(clean.idNumber),
      phoneEnc: pii.encryptNullable(clean.phone),
      facts: personFacts(clean, { today, key }),
    };
  };
  return {
    index,
    record,
    policyholder: person(record.policyholder),
    insured: person(record.insured),
    beneficiaries: record.beneficiaries.map((b) => person(b.person)),
  };
}

/**
 * Writes the accepted records of a batch: a constant number of statements
 * (per {@link CHUNK_IN}-sized chunk) whatever the batch size.
 */
export async function writeBatch(
  em: EntityManager,
  pii: PiiCipher,
  batch: BatchTarget,
  prepared: PreparedRecord[],
  results: Array<SalesRecordOutcome | null>,
  options: { today: string; now: Date },
): Promise<BatchWritten> {
  const { insurerId, channelId, batchId } = batch;
  const { now, today } = options;
  // 1. Existing policies of these numbers (one query).
  const existing = new Map<string, PolicyEntity>();
  for (const part of chunk(prepared.map((p) => p.record.policyNo), CHUNK_IN)) {
    for (const row of await em.getRepository(PolicyEntity).findBy({ insurerId, policyNo: In(part) })) existing.set(row.policyNo.toUpperCase(), row);
  }
  const accepted: PreparedRecord[] = [];
  for (const p of prepared) {
    const old = existing.get(p.record.policyNo);
    if (old && old.channelId !== channelId) {
      results[p.index] = rejected(p.record.policyNo, [
        { field: 'policyNo', code: 'DUPLICATE_POLICY', message: 'This policy number is already held by a policy of another channel at this insurer' },
      ]);
    } else if (old && old.status !== 'PENDING') {
      results[p.index] = rejected(p.record.policyNo, [
        { field: 'policyNo', code: 'ALREADY_UNDERWRITTEN', message: 'This policy is already underwritten: change it with submitCorrection' },
      ]);
    } else {
      accepted.push(p);
    }
  }
  if (accepted.length === 0) return { accepted: [], reflagged: [], fields: [] };
  const replaced = accepted.map((p) => existing.get(p.record.policyNo)).filter((x): x is PolicyEntity => !!x);
  const replacedIds = replaced.map((r) => r.id);

  // 2. People: existing rows by identity blind index, and the previous policyholders of replaced policies (one query each).
  const incoming = accepted.flatMap((p) => [p.policyholder, p.insured, ...p.beneficiaries]);
  const byIdentity = new Map<string, PersonEntity>();
  for (const part of chunk([...new Set(incoming.map((p) => p.idBidx).filter((x): x is string => !!x))], CHUNK_IN)) {
    for (const row of await em.getRepository(PersonEntity).findBy({ insurerId, idNumberBidx: In(part) })) byIdentity.set(row.idNumberBidx!, row);
  }
  const previousHolderPhones = new Set<string>();
  for (const part of chunk([...new Set(replaced.map((r) => r.policyholderId))], CHUNK_IN)) {
    const rows = await em.getRepository(PersonEntity).createQueryBuilder('p').select(['p.id', 'p.phoneBidx']).where('p.id IN (:...ids)', { ids: part }).getMany();
    for (const row of rows) if (row.phoneBidx) previousHolderPhones.add(row.phoneBidx);
  }

  // 3. Who shares which phone BEFORE this batch (stored verdicts agree with it).
  const holderPhonesIn = new Set<string>();
  for (const p of accepted) if (p.policyholder.phoneBidx) holderPhonesIn.add(p.policyholder.phoneBidx);
  const states = new Map<string, PersonState>(); // by identity blind index
  const resolve = (incomingPerson: PreparedPerson): PersonState => {
    const identity = incomingPerson.idBidx;
    const current = identity ? states.get(identity) : undefined;
    if (current) {
      mergePerson(pii, current, incomingPerson, now);
      return current;
    }
    const stored = identity ? byIdentity.get(identity) : undefined;
    const state: PersonState = stored
      ? { row: { ...stored }, facts: storedFacts(stored), dirty: false, changed: false, phoneBefore: stored.phoneBidx, isNew: false }
      : { row: emptyPerson(insurerId, now), facts: personFacts({}, { key: pii.factKey }), dirty: true, changed: false, phoneBefore: null, isNew: true };
    mergePerson(pii, state, incomingPerson, now);
    if (identity) states.set(identity, state);
    return state;
  };
  const slots = accepted.map((p) => ({
    prepared: p,
    policyholder: resolve(p.policyholder),
    insured: resolve(p.insured),
    beneficiaries: p.beneficiaries.map(resolve),
  }));
  const everyone = [...new Set(slots.flatMap((s) => [s.policyholder, s.insured, ...s.beneficiaries]))];
  // Every merge is done: each person's facts for the verdicts, built once (under the chain lock) and shared by the re-flag.
  const facts = new Map<PersonState, FactPerson>(everyone.map((s) => [s, factOf(s)]));
  const factsOf = (s: PersonState) => facts.get(s)!;
  const changedPeople = everyone.filter((s) => s.changed);
  for (const s of changedPeople) {
    if (s.phoneBefore) holderPhonesIn.add(s.phoneBefore);
    if (s.row.phoneBidx) holderPhonesIn.add(s.row.phoneBidx);
  }
  for (const phone of previousHolderPhones) holderPhonesIn.add(phone);
  const phones = [...holderPhonesIn];
  const before = await phoneHolders(em, insurerId, phones);

  // 4. Writes: people (new and changed, one upsert), unmatched people of replaced policies, old beneficiary rows.
  if (replacedIds.length > 0) {
    for (const part of chunk(replacedIds, CHUNK_IN)) {
      const holders = replaced.filter((r) => part.includes(r.id)).flatMap((r) => [r.policyholderId, r.insuredId]);
      await em
        .createQueryBuilder()
        .delete()
        .from(PersonEntity)
        .where('insurer_id = :insurerId AND id_number_bidx IS NULL', { insurerId })
        .andWhere('(id IN (:...holders) OR id IN (SELECT b.person_id FROM policy_beneficiary b WHERE b.policy_id IN (:...part)))', { holders, part })
        .execute();
      await em.createQueryBuilder().delete().from(PolicyBeneficiaryEntity).where('policy_id IN (:...part)', { part }).execute();
    }
  }
  const dirty = everyone.filter((s) => s.dirty);
  await upsertRows(em, PersonEntity, dirty.map((s) => ({ ...s.row, facts: JSON.stringify(s.facts) })), PERSON_OVERWRITE);

  // 5. Sharing AFTER this batch: the people written, minus the replaced policies' old holders, plus the batch's holders.
  const after = await phoneHolders(em, insurerId, phones, replacedIds);
  for (const s of slots) {
    const phone = s.policyholder.row.phoneBidx;
    if (!phone) continue;
    const set = after.get(phone) ?? new Set<string>();
    set.add(s.policyholder.row.idNumberBidx ?? s.policyholder.row.id);
    after.set(phone, set);
  }
  // Sales people are registered by channel: a policy sold directly has no registered seller to compare with.
  const sellers = await sellerPhones(
    em,
    channelId === null ? [] : slots.filter((s) => s.prepared.record.salesPersonCode).map((s) => ({ organizationId: channelId, code: s.prepared.record.salesPersonCode! })),
  );

  // 6. The batch's policies, their verdicts, beneficiaries and missing-field rows.
  const fields = new Set<string>(['policyNo', 'productCode', 'termMonths', 'applicationDate']);
  const policies: PolicyEntity[] = [];
  const beneficiaryRows: PolicyBeneficiaryEntity[] = [];
  const verdicts: Array<{ policyId: string; missing: string[] }> = [];
  const acceptedLog: Array<{ policyNo: string; version: number; completeness: string }> = [];
  for (const s of slots) {
    const r = s.prepared.record;
    const old = existing.get(r.policyNo);
    const phone = s.policyholder.row.phoneBidx;
    const verdict = assessFromFacts(
      {
        policyholder: factsOf(s.policyholder),
        insured: factsOf(s.insured),
        insuredRelationship: r.insuredRelationship,
        beneficiaries: s.beneficiaries.map((b, i) => ({ person: factsOf(b), relationshipToInsured: r.beneficiaries[i]!.relationshipToInsured })),
        applicationDate: r.applicationDate,
      },
      {
        phoneSharedCount: phone ? after.get(phone)?.size ?? 0 : 0,
        salesPersonPhoneKey: r.salesPersonCode && channelId !== null ? sellers.get(sellerKey(channelId, r.salesPersonCode)) ?? null : null,
        today,
      },
    );
    const policy: PolicyEntity = {
      id: old?.id ?? newId(),
      insurerId,
      policyNo: r.policyNo,
      channelId: channelId,
      salesPersonCode: r.salesPersonCode,
      productCode: r.productCode,
      termMonths: r.termMonths,
      applicationDate: r.applicationDate,
      status: 'PENDING',
      policyholderId: s.policyholder.row.id,
      insuredId: s.insured.row.id,
      insuredRelationship: r.insuredRelationship,
      completeness: verdict.status,
      issues: issuesJson(verdict),
      version: old ? old.version + 1 : 1,
      underwrittenAt: null,
      underwrittenBy: null,
      underwritingOverride: null,
      batchId,
      createdAt: old?.createdAt ?? now,
      updatedAt: now,
    };
    policies.push(policy);
    verdicts.push({ policyId: policy.id, missing: verdict.missing });
    s.beneficiaries.forEach((b, i) => {
      const input = r.beneficiaries[i]!;
      beneficiaryRows.push({ id: newId(), insurerId, policyId: policy.id, personId: b.row.id, ord: input.order, relationshipToInsured: input.relationshipToInsured, sharePercent: input.sharePercent });
    });
    results[s.prepared.index] = { policyNo: r.policyNo, accepted: true, errors: [], completeness: verdict, version: policy.version };
    acceptedLog.push({ policyNo: r.policyNo, version: policy.version, completeness: verdict.status });
    for (const path of presentFields(r)) fields.add(path);
  }
  await upsertRows(em, PolicyEntity, policies, POLICY_OVERWRITE);
  await insertRows(em, PolicyBeneficiaryEntity, beneficiaryRows);
  // Brand-new policies have no missing-field rows to clear.
  const fresh = new Set(policies.filter((p) => !existing.has(p.policyNo)).map((p) => p.id));
  await rewriteMissing(em, insurerId, verdicts, fresh);

  // 7. Other policies this batch re-flags: a phone that became (or stopped being) shared, people whose data changed.
  const flipped = phones.filter((phone) => isShared(before.get(phone)) !== isShared(after.get(phone)));
  const touched = await policiesTouching(
    em,
    insurerId,
    flipped,
    changedPeople.map((s) => s.row.id),
    policies.map((p) => p.id),
  );
  const known = new Map<string, FactPerson>(everyone.map((s) => [s.row.id, factsOf(s)]));
  const reflagged = await recomputePolicies(em, insurerId, touched, { today, now, people: known, holders: after });
  return {
    accepted: acceptedLog,
    reflagged: reflagged.map((r) => ({ policyNo: r.policy.policyNo, completeness: r.verdict.status })),
    fields: [...fields].sort(),
  };
}

/**
 * Merges an incoming person into a row: every value the record carries
 * replaces the stored one, a blank value keeps what the insurer already
 * holds (a gap in one submission does not erase the customer record).
 * Values equal after normalisation (the same number written with spaces,
 * the same phone with +86) leave the row as it was.
 */
function mergePerson(pii: PiiCipher, state: PersonState, incoming: PreparedPerson, now: Date): void {
  const snapshot = (row: PersonEntity, facts: PersonFacts) => JSON.stringify([row.name, row.gender, row.birthDate, row.idType, row.address, row.phoneBidx, row.idNumberBidx, facts]);
  // A new row is written whatever changed: no snapshots to compare (this runs under the chain lock, for every person of the batch).
  const before = state.isNew ? '' : snapshot(state.row, state.facts);
  const c = incoming.clean;
  const row = mergeClearFields(state.row, c).merged;
  state.row = row;
  const facts: PersonFacts = { ...state.facts };
  if (c.address !== null) facts.addressProblem = incoming.facts.addressProblem;
  // A stored person is matched by its document, so an incoming one that changes it carries both type and number.
  if (c.idType !== null || c.idNumber !== null) {
    facts.idCheck = incoming.facts.idCheck;
    facts.idEmbedded = incoming.facts.idEmbedded;
    facts.idKey = incoming.facts.idKey;
  }
  let sealedId = false;
  let sealedPhone = false;
  if (c.idNumber !== null && (row.idNumberEnc === null || state.facts.idKey !== incoming.facts.idKey || row.idNumberBidx !== incoming.idBidx)) {
    row.idNumberEnc = incoming.idEnc!.value;
    row.idNumberBidx = incoming.idBidx;
    sealedId = true;
  }
  if (c.phone !== null) {
    facts.phoneInvalid = incoming.facts.phoneInvalid;
    facts.phoneKey = incoming.facts.phoneKey;
    if (row.phoneEnc === null || row.phoneBidx !== incoming.phoneBidx || state.facts.phoneInvalid !== incoming.facts.phoneInvalid) {
      row.phoneEnc = incoming.phoneEnc!.value;
      row.phoneBidx = incoming.phoneBidx;
      sealedPhone = true;
    }
  }
  // One key id covers both sealed columns: the one kept is re-sealed when it was sealed under an older key (rotation).
  settlePersonKey(pii, row, { idNumber: sealedId, phone: sealedPhone });
  facts.blank = blankOf(row);
  state.facts = facts;
  if (state.isNew || sealedId || sealedPhone || snapshot(row, facts) !== before) {
    state.dirty = true;
    row.updatedAt = now;
    if (!state.isNew) state.changed = true;
  }
}

/** A record refused with its field errors. */
export function rejected(policyNo: string, errors: FieldErrorData[]): SalesRecordOutcome {
  return { policyNo, accepted: false, errors, completeness: null, version: null };
}

function isShared(identities: Set<string> | undefined): boolean {
  return isPhoneShared(identities?.size ?? 0);
}

function factOf(state: PersonState): FactPerson {
  return factPersonOf(state.row, state.facts);
}

function emptyPerson(insurerId: string, now: Date): PersonEntity {
  return {
    id: newId(),
    insurerId,
    name: null,
    gender: null,
    birthDate: null,
    idType: null,
    idNumberEnc: null,
    idNumberBidx: null,
    phoneEnc: null,
    phoneBidx: null,
    address: null,
    keyId: null,
    facts: '',
    createdAt: now,
    updatedAt: now,
  };
}

/** Field paths a record carries (for its log entry): the ones given, never their values. */
function presentFields(r: CleanRecord): string[] {
  const out: string[] = [];
  if (r.salesPersonCode) out.push('salesPersonCode');
  if (r.insuredRelationship) out.push('insuredRelationship');
  const person = (path: string, p: CleanPerson) => {
    for (const f of PERSON_FIELDS) if (p[f] !== null) out.push(`${path}.${f}`);
  };
  person('policyholder', r.policyholder);
  person('insured', r.insured);
  r.beneficiaries.forEach((b, i) => {
    person(`beneficiaries[${i}]`, b.person);
    if (b.relationshipToInsured) out.push(`beneficiaries[${i}].relationshipToInsured`);
    if (b.sharePercent !== null) out.push(`beneficiaries[${i}].sharePercent`);
    if (b.order !== null) out.push(`beneficiaries[${i}].order`);
  });
  return out;
}
