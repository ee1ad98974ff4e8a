import type { DataSource, EntityManager } from 'typeorm';
import { In } from 'typeorm';
import { hasRole, isExchangeAdmin, isKind, type Actor } from '../../auth/actor';
import type { RequestContext } from '../../graphql/context';
import { AgreementInactiveError, AttestationRequiredError, BadInputError, ForbiddenError, NotFoundError } from '../../graphql/errors';
import { newId } from '../../db/ids';
import { inTransaction, isDuplicateKeyError } from '../../db/transaction';
import { todayInChina } from '../../domain/dates';
import { isValidPhone } from '../../domain/phone';
import { assessFromFacts, isPhoneShared, type Completeness } from '../../domain/completeness';
import { PERSON_FIELDS, personFacts, type FactPerson, type PersonFacts } from '../../domain/person-facts';
import type { GrantService } from '../agreement/grant.service';
import type { OrganizationEntity } from '../organization/organization.entity';
import { normalizeCode, type OrganizationService } from '../organization/organization.service';
import type { PiiCipher, Sealed } from '../person/pii';
import { PersonEntity } from '../policy/person.entity';
import { PolicyBeneficiaryEntity, PolicyEntity } from '../policy/policy.entity';
import { requireActor } from '../principal/principal.service';
import type { RefusalInput, TransferLogWriter } from '../transfer-log/transfer-log.writer';
import {
  CHUNK_IN,
  chunk,
  factPersonOf,
  insertRows,
  issuesJson,
  PERSON_OVERWRITE,
  phoneHolders,
  policiesTouching,
  POLICY_OVERWRITE,
  recomputePolicies,
  rewriteMissing,
  sellerKey,
  sellerPhones,
  storedFacts,
  upsertRows,
  settlePersonKey,
} from './policy-writer';
import { SalesBatchEntity, SalesPersonEntity } from './sales.entity';
import {
  checkRecord,
  LIMITS,
  MAX_BATCH_RECORDS,
  MAX_IDEMPOTENCY_KEY,
  normalizeSalesPersonCode,
  payloadHash,
  type CleanPerson,
  type CleanRecord,
  type FieldErrorData,
  type SalesRecordData,
} from './sales.validation';

/** What this module needs of the transfer log. */
export type SalesLog = Pick<TransferLogWriter, 'lockChain' | 'append' | 'recordRefusal' | 'exchangeChainId' | 'writeOnChain'>;

/** One record's verdict in a {@link SubmitSalesResult} (contract `SalesRecordResult`). */
export interface SalesRecordOutcome {
  policyNo: string;
  accepted: boolean;
  errors: FieldErrorData[];
  completeness: Completeness | null;
  /** The stored record's version; null when rejected. */
  version: number | null;
}

/** Contract `SubmitSalesPayload`; exactly what is stored for replays (no person's data in it). */
export interface SubmitSalesResult {
  batchId: string;
  replayed: boolean;
  accepted: number;
  rejected: number;
  results: SalesRecordOutcome[];
}

export interface RegisterSalesPersonData {
  organizationCode?: string | null;
  code: string;
  name: string;
  phone: string;
}

const PARTNER_KINDS = ['BROKER', 'BANK_CHANNEL'] as const;
/** Policy numbers per `reflagCompleteness` log entry (the entry's JSON list stays far below a 64 KiB TEXT). */
export const REFLAG_ENTRY_POLICIES = 500;
const SALES_PERSON_NAME_MAX = 100;

/** A person of an incoming record, sealed and indexed before the transaction opens. */
interface PreparedPerson {
  clean: CleanPerson;
  idBidx: string | null;
  phoneBidx: string | null;
  idEnc: Sealed | null;
  phoneEnc: Sealed | null;
  facts: PersonFacts;
}

interface PreparedRecord {
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

/**
 * The bank and broker sales push (contract `submitSales`, README "Writes";
 * Art. 5 and 6 of the measures): every record is judged on its own, stored
 * with its completeness even when incomplete, and the whole batch commits
 * with ONE transfer-log entry, or not at all. Built for batches (issue 4
 * item 5): a constant number of statements per batch, multi-row writes.
 */
export class SalesService {
  constructor(
    private readonly db: DataSource,
    private readonly organizations: OrganizationService,
    private readonly grants: GrantService,
    private readonly log: SalesLog,
    private readonly pii: PiiCipher,
  ) {}

  /**
   * submitSales. In order:
   * 1. BAD_USER_INPUT (nothing written) for an idempotency key that is not 1
   *    to 128 characters, or 0 or more than {@link MAX_BATCH_RECORDS} records;
   *    FORBIDDEN unless the caller is SALES of a BROKER or BANK_CHANNEL;
   *    NOT_FOUND for an unknown insurer code (codes are public).
   * 2. The same key from the same organization seen before: the stored payload
   *    with `replayed: true` (nothing changes, nothing is logged), or
   *    BAD_USER_INPUT when the records differ (SHA-256 of their canonical JSON).
   * 3. AGREEMENT_INACTIVE without an ACTIVE agreement granting SUBMIT_SALES
   *    on the insurer, ATTESTATION_REQUIRED without the staff attestation:
   *    both recorded as REFUSED entries on the insurer's chain.
   * 4. Records with field errors are rejected; the others are written with
   *    their completeness in one transaction that first takes the insurer's
   *    chain lock (so concurrent batches with one key serialise: the later
   *    ones find the stored batch and replay it) and re-checks SUBMIT_SALES
   *    under it: an agreement terminated or expired since step 3 refuses the
   *    batch as step 3 would (`writeOnChain`).
   */
  async submit(ctx: RequestContext, insurerCode: string, idempotencyKey: string, records: readonly SalesRecordData[]): Promise<SubmitSalesResult> {
    const actor = requireActor(ctx);
    const key = typeof idempotencyKey === 'string' ? idempotencyKey.trim() : '';
    if (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY) {
      throw new BadInputError(`idempotencyKey must be 1 to ${MAX_IDEMPOTENCY_KEY} characters`, { field: 'idempotencyKey', limit: MAX_IDEMPOTENCY_KEY });
    }
    if (!Array.isArray(records) || records.length === 0 || records.length > MAX_BATCH_RECORDS) {
      throw new BadInputError(`records must hold 1 to ${MAX_BATCH_RECORDS} records per call`, { field: 'records', limit: MAX_BATCH_RECORDS });
    }
    if (!isKind(actor, ...PARTNER_KINDS) || !hasRole(actor, 'SALES')) {
      throw new ForbiddenError('Only SALES principals of a broker or bank channel may push sales');
    }
    const insurer = await ctx.loaders.organizationByCode.load(normalizeCode(insurerCode));
    if (!insurer || insurer.kind !== 'INSURER') throw new NotFoundError('Insurer');
    const hash = payloadHash(insurer.code, records);

    const stored = await this.findBatch(this.db.manager, actor.organizationId, key);
    if (stored) return this.replay(stored, hash);

    const grant = await this.grants.of(ctx, actor.organizationId, insurer.id);
    const refusal = (errorCode: string): RefusalInput => ({
      insurerId: insurer.id,
      operation: 'submitSales',
      errorCode,
      actorPrincipalId: actor.principalId,
      actorOrganizationId: actor.organizationId,
      counterpartyId: insurer.id,
      agreementId: grant.agreementIds[0] ?? null,
      change: { idempotencyKey: key, payloadHash: hash, records: records.length },
    });
    if (!grant.scopes.has('SUBMIT_SALES')) {
      await this.log.recordRefusal(refusal('AGREEMENT_INACTIVE'));
      throw new AgreementInactiveError(`No active data-sharing agreement grants SUBMIT_SALES on ${insurer.code}`);
    }
    if (!actor.attestedAt) {
      await this.log.recordRefusal(refusal('ATTESTATION_REQUIRED'));
      throw new AttestationRequiredError();
    }
    return this.apply(actor, insurer, key, hash, records, { refusal, now: ctx.now });
  }

  /**
   * The write of {@link submit} once the caller is allowed: validation, then
   * the transaction, which re-checks the agreement under the chain lock and
   * records a refusal with `options.refusal`. Exposed for the demo seed and
   * imports, which run the same path; callers must have checked the
   * attestation.
   */
  async apply(
    actor: Actor,
    insurer: Pick<OrganizationEntity, 'id' | 'code'>,
    idempotencyKey: string,
    hash: string,
    records: readonly SalesRecordData[],
    options: { refusal: (errorCode: string) => RefusalInput; now: Date },
  ): Promise<SubmitSalesResult> {
    const today = todayInChina(options.now);
    const outcomes: Array<SalesRecordOutcome | null> = records.map(() => null);
    const prepared: PreparedRecord[] = [];
    const seen = new Set<string>();
    records.forEach((input, index) => {
      const check = checkRecord(input ?? {}, today);
      if (!check.ok) {
        outcomes[index] = rejected(check.policyNo, check.errors);
        return;
      }
      if (seen.has(check.record.policyNo)) {
        outcomes[index] = rejected(check.record.policyNo, [
          { field: 'policyNo', code: 'DUPLICATE_IN_BATCH', message: 'The same policyNo appears earlier in this batch' },
        ]);
        return;
      }
      seen.add(check.record.policyNo);
      prepared.push(this.prepare(index, check.record, today));
    });

    try {
      return await this.applyIn(actor, insurer, idempotencyKey, hash, prepared, outcomes, { ...options, today });
    } catch (error) {
      // The same key sent at once for two insurers: UNIQUE (organization_id, idempotency_key) let only one commit.
      if (!isDuplicateKeyError(error)) throw error;
      const winner = await this.findBatch(this.db.manager, actor.organizationId, idempotencyKey);
      if (!winner) throw error;
      return this.replay(winner, hash);
    }
  }

  private applyIn(
    actor: Actor,
    insurer: Pick<OrganizationEntity, 'id' | 'code'>,
    idempotencyKey: string,
    hash: string,
    prepared: PreparedRecord[],
    outcomes: Array<SalesRecordOutcome | null>,
    options: { refusal: (errorCode: string) => RefusalInput; now: Date; today: string },
  ): Promise<SubmitSalesResult> {
    const { today } = options;
    const refuseOn = this.grants.requiring(actor.organizationId, insurer, 'SUBMIT_SALES');
    // The chain lock first: concurrent batches for this insurer (and every other writer of its rows) queue there.
    return this.log.writeOnChain(insurer.id, async (em, grant) => {
      const agreementId = grant.agreementIds[0] ?? null;
      const existingBatch = await this.findBatch(em, actor.organizationId, idempotencyKey);
      if (existingBatch) return this.replay(existingBatch, hash);
      const batchId = newId();
      const results = [...outcomes];
      const written = await this.write(em, actor, insurer.id, batchId, prepared, results, { today, now: options.now });
      const final = results.map((r) => r!);
      const payload: SubmitSalesResult = {
        batchId,
        replayed: false,
        accepted: final.filter((r) => r.accepted).length,
        rejected: final.filter((r) => !r.accepted).length,
        results: final,
      };
      await insertRows(em, SalesBatchEntity, [
        { id: batchId, insurerId: insurer.id, organizationId: actor.organizationId, idempotencyKey, payloadHash: hash, response: payload, createdAt: options.now },
      ]);
      await this.log.append(em, {
        insurerId: insurer.id,
        operation: 'submitSales',
        actorPrincipalId: actor.principalId,
        actorOrganizationId: actor.organizationId,
        counterpartyId: insurer.id,
        agreementId,
        policyNos: written.accepted.map((a) => a.policyNo),
        fields: written.fields,
        change: {
          batchId,
          idempotencyKey,
          payloadHash: hash,
          rejected: payload.rejected,
          policies: written.accepted,
          reflagged: written.reflagged.length,
        },
      });
      await this.logReflagged(em, actor, insurer.id, agreementId, 'submitSales', written.reflagged, { batchId });
      return payload;
    }, { refuseOn, refusal: options.refusal });
  }

  /** Seals and indexes a record's people and computes their facts (CPU only, before the transaction). */
  private prepare(index: number, record: CleanRecord, today: string): PreparedRecord {
    const person = (clean: CleanPerson): PreparedPerson => ({
      clean,
      idBidx: this.pii.idIndex(clean.idType, clean.idNumber),
      phoneBidx: this.pii.phoneIndex(clean.phone),
      idEnc: this.pii.encryptNullable(clean.idNumber),
      phoneEnc: this.pii.encryptNullable(clean.phone),
      facts: personFacts(clean, { today, key: this.pii.factKey }),
    });
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
  private async write(
    em: EntityManager,
    actor: Actor,
    insurerId: string,
    batchId: string,
    prepared: PreparedRecord[],
    results: Array<SalesRecordOutcome | null>,
    options: { today: string; now: Date },
  ): Promise<{ accepted: Array<{ policyNo: string; version: number; completeness: string }>; reflagged: Array<{ policyNo: string; completeness: string }>; fields: string[] }> {
    const { now, today } = options;
    // 1. Existing policies of these numbers (one query).
    const existing = new Map<string, PolicyEntity>();
    for (const part of chunk(prepared.map((p) => p.record.policyNo), CHUNK_IN)) {
      for (const row of await em.getRepository(PolicyEntity).findBy({ insurerId, policyNo: In(part) })) existing.set(row.policyNo.toUpperCase(), row);
    }
    const accepted: PreparedRecord[] = [];
    for (const p of prepared) {
      const old = existing.get(p.record.policyNo);
      if (old && old.channelId !== actor.organizationId) {
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
        this.merge(current, incomingPerson, now);
        return current;
      }
      const stored = identity ? byIdentity.get(identity) : undefined;
      const state: PersonState = stored
        ? { row: { ...stored }, facts: storedFacts(stored), dirty: false, changed: false, phoneBefore: stored.phoneBidx, isNew: false }
        : { row: emptyPerson(insurerId, now), facts: personFacts({}, { key: this.pii.factKey }), dirty: true, changed: false, phoneBefore: null, isNew: true };
      this.merge(state, incomingPerson, now);
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
    const sellers = await sellerPhones(
      em,
      slots.filter((s) => s.prepared.record.salesPersonCode).map((s) => ({ organizationId: actor.organizationId, code: s.prepared.record.salesPersonCode! })),
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
          policyholder: factOf(s.policyholder),
          insured: factOf(s.insured),
          insuredRelationship: r.insuredRelationship,
          beneficiaries: s.beneficiaries.map((b, i) => ({ person: factOf(b), relationshipToInsured: r.beneficiaries[i]!.relationshipToInsured })),
          applicationDate: r.applicationDate,
        },
        {
          phoneSharedCount: phone ? after.get(phone)?.size ?? 0 : 0,
          salesPersonPhoneKey: r.salesPersonCode ? sellers.get(sellerKey(actor.organizationId, r.salesPersonCode)) ?? null : null,
          today,
        },
      );
      const policy: PolicyEntity = {
        id: old?.id ?? newId(),
        insurerId,
        policyNo: r.policyNo,
        channelId: actor.organizationId,
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
    const known = new Map<string, FactPerson>(everyone.map((s) => [s.row.id, factOf(s)]));
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
  private merge(state: PersonState, incoming: PreparedPerson, now: Date): void {
    const row = state.row;
    const snapshot = () => JSON.stringify([row.name, row.gender, row.birthDate, row.idType, row.address, row.phoneBidx, row.idNumberBidx, state.facts]);
    const before = snapshot();
    const c = incoming.clean;
    const facts: PersonFacts = { ...state.facts };
    if (c.name !== null) row.name = c.name;
    if (c.gender !== null) row.gender = c.gender;
    if (c.birthDate !== null) row.birthDate = c.birthDate;
    if (c.address !== null) {
      row.address = c.address;
      facts.addressProblem = incoming.facts.addressProblem;
    }
    // A stored person is matched by its document, so an incoming one that changes it carries both type and number.
    if (c.idType !== null || c.idNumber !== null) {
      if (c.idType !== null) row.idType = c.idType;
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
    settlePersonKey(this.pii, row, { idNumber: sealedId, phone: sealedPhone });
    const values: Record<(typeof PERSON_FIELDS)[number], unknown> = {
      name: row.name,
      gender: row.gender,
      birthDate: row.birthDate,
      idType: row.idType,
      idNumber: row.idNumberEnc,
      phone: row.phoneEnc,
      address: row.address,
    };
    facts.blank = PERSON_FIELDS.filter((f) => values[f] === null || values[f] === undefined);
    state.facts = facts;
    if (state.isNew || sealedId || sealedPhone || snapshot() !== before) {
      state.dirty = true;
      row.updatedAt = now;
      if (!state.isNew) state.changed = true;
    }
  }

  private async findBatch(em: EntityManager, organizationId: string, idempotencyKey: string): Promise<SalesBatchEntity | null> {
    return em.getRepository(SalesBatchEntity).findOneBy({ organizationId, idempotencyKey });
  }

  private replay(batch: SalesBatchEntity, hash: string): SubmitSalesResult {
    if (batch.payloadHash !== hash) {
      throw new BadInputError('This idempotencyKey was used for a different batch: use a new key for new records', { field: 'idempotencyKey' });
    }
    const stored = (typeof batch.response === 'string' ? JSON.parse(batch.response) : batch.response) as SubmitSalesResult;
    return { ...stored, replayed: true };
  }

  // ------------------------------------------------------------ sales people ---

  /**
   * registerSalesPerson (销售实名制): an ADMIN of a BROKER or BANK_CHANNEL for
   * its own organization, or the EXCHANGE ADMIN for any, registers (or
   * re-registers: name and phone are replaced) a sales person code with a
   * name and a phone, stored encrypted with a blind index. Policies the
   * person sold are re-assessed in the same transaction (PHONE_IS_SALES_PERSON),
   * under the chain locks of their insurers; one log entry on the exchange's
   * chain, and one per insurer whose policies were re-flagged.
   */
  async registerSalesPerson(ctx: RequestContext, input: RegisterSalesPersonData): Promise<SalesPersonEntity> {
    const actor = requireActor(ctx);
    const exchange = isExchangeAdmin(actor);
    if (!exchange && !(hasRole(actor, 'ADMIN') && isKind(actor, ...PARTNER_KINDS))) {
      throw new ForbiddenError('Only an ADMIN of a broker or bank channel (or the exchange ADMIN) may register sales people');
    }
    const orgCode = input.organizationCode?.trim() ? normalizeCode(input.organizationCode) : exchange ? null : actor.organizationCode;
    if (!orgCode) throw new BadInputError('organizationCode is required', { field: 'organizationCode' });
    if (!exchange && orgCode !== actor.organizationCode) throw new ForbiddenError('An ADMIN may register sales people only for its own organization');
    const code = normalizeSalesPersonCode(input.code);
    if (!code || code.length > LIMITS.salesPersonCode || !/^[A-Z0-9\-_/.]+$/.test(code)) {
      throw new BadInputError(`code must be 1 to ${LIMITS.salesPersonCode} letters, digits, "-", "_", "/" or "."`, { field: 'code' });
    }
    const name = typeof input.name === 'string' ? input.name.trim() : '';
    if (name.length === 0 || Array.from(name).length > SALES_PERSON_NAME_MAX) throw new BadInputError(`name must be 1 to ${SALES_PERSON_NAME_MAX} characters`, { field: 'name' });
    const phone = typeof input.phone === 'string' ? input.phone.trim() : '';
    if (phone.length > LIMITS.phone || !isValidPhone(phone)) {
      throw new BadInputError('phone must be a mainland mobile number or a landline with area code', { field: 'phone' });
    }
    const org = await this.organizations.findByCode(orgCode);
    if (!org) throw new NotFoundError('Organization');
    if (!(PARTNER_KINDS as readonly string[]).includes(org.kind)) throw new BadInputError('organizationCode must name a BROKER or a BANK_CHANNEL', { field: 'organizationCode' });
    const sealed = this.pii.encrypt(phone);
    const phoneBidx = this.pii.phoneIndex(phone)!;
    const now = ctx.now;
    const today = todayInChina(now);

    return inTransaction(this.db, async (em) => {
      const insurerRows = await em
        .getRepository(PolicyEntity)
        .createQueryBuilder('x')
        .select('DISTINCT x.insurer_id', 'insurerId')
        .where('x.channel_id = :org AND x.sales_person_code = :code', { org: org.id, code })
        .getRawMany<{ insurerId: string }>();
      const insurerIds = insurerRows.map((r) => String(r.insurerId));
      const exchangeChain = await this.log.exchangeChainId(em);
      // Every chain lock first, in one global order, so two registrations never wait on each other crosswise.
      const chains = [...new Set([exchangeChain, ...insurerIds])].sort();
      for (const chain of chains) await this.log.lockChain(em, chain);

      const repo = em.getRepository(SalesPersonEntity);
      const current = await repo.findOneBy({ organizationId: org.id, code });
      const row: SalesPersonEntity = {
        id: current?.id ?? newId(),
        organizationId: org.id,
        code,
        name,
        phoneEnc: sealed.value,
        phoneBidx,
        keyId: sealed.keyId,
        createdAt: current?.createdAt ?? now,
      };
      if (current) await repo.update({ id: current.id }, { name, phoneEnc: sealed.value, phoneBidx, keyId: sealed.keyId });
      else await repo.insert(row);
      await this.log.append(em, {
        insurerId: null,
        operation: 'registerSalesPerson',
        actorPrincipalId: actor.principalId,
        actorOrganizationId: actor.organizationId,
        counterpartyId: org.id === actor.organizationId ? null : org.id,
        fields: ['salesPerson.name', 'salesPerson.phone'],
        change: { salesPersonId: row.id, organizationId: org.id, code, phoneBidx },
      });
      for (const insurerId of insurerIds) {
        const sold = await em.getRepository(PolicyEntity).findBy({ insurerId, channelId: org.id, salesPersonCode: code });
        const changed = await recomputePolicies(em, insurerId, sold, { today, now });
        const reflagged = changed.map((c) => ({ policyNo: c.policy.policyNo, completeness: c.verdict.status }));
        await this.logReflagged(em, actor, insurerId, null, 'registerSalesPerson', reflagged, { salesPersonId: row.id });
      }
      return row;
    });
  }

  /**
   * The re-flagged policies of a change (their stored completeness moved
   * because of another record), on the insurer's chain as `reflagCompleteness`
   * entries of at most {@link REFLAG_ENTRY_POLICIES} policy numbers each, so
   * that every one of them is found by `transferLog(policyNo:)` however many
   * there are.
   */
  private async logReflagged(
    em: EntityManager,
    actor: Actor,
    insurerId: string,
    agreementId: string | null,
    cause: string,
    reflagged: ReadonlyArray<{ policyNo: string; completeness: string }>,
    ref: Record<string, string>,
  ): Promise<void> {
    for (const part of chunk(reflagged, REFLAG_ENTRY_POLICIES)) {
      await this.log.append(em, {
        insurerId,
        operation: 'reflagCompleteness',
        actorPrincipalId: actor.principalId,
        actorOrganizationId: actor.organizationId,
        counterpartyId: insurerId,
        agreementId,
        policyNos: part.map((r) => r.policyNo),
        fields: ['completeness.status', 'completeness.issues'],
        change: { cause, ...ref, reflagged: part },
      });
    }
  }
}


function rejected(policyNo: string, errors: FieldErrorData[]): SalesRecordOutcome {
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

