import type { DataSource, EntityManager } from 'typeorm';
import { isKind, logActor, requireActor, requireAttestation, type Actor } from '../../auth/actor';
import type { RequestContext } from '../../graphql/context';
import { AgreementInactiveError, BadInputError, ForbiddenError, NotFoundError, VersionConflictError } from '../../graphql/errors';
import { newId } from '../../db/ids';
import { CHUNK_IN, chunk } from '../../db/bulk';
import { isDuplicateKeyError, isSqlite } from '../../db/dialect';
import { sha256Hex } from '../../domain/sha256';
import { todayInChina } from '../../domain/dates';
import type { IdType } from '../../domain/enums';
import { PERSON_FIELDS, personFacts, type PersonField, type PersonFacts } from '../../domain/person-facts';
import { mergeClearFields } from '../../domain/person-merge';
import type { GrantService } from '../agreement/grant.service';
import type { OrganizationEntity } from '../organization/organization.entity';
import type { PiiCipher, Sealed } from '../person/pii';
import { PersonEntity } from '../policy/person.entity';
import type { PiiView } from '../policy/person.type';
import { PolicyBeneficiaryEntity, PolicyEntity } from '../policy/policy.entity';
import type { PolicyService } from '../policy/policy.service';
import { blankOf, orderBeneficiaries, policiesTouching, recomputePolicies, settlePersonKey, storedFacts } from '../policy/policy-store';
import { logReflagged, REFLAG_ENTRY_POLICIES } from '../policy/policy-reflag';
import type { RefusalInput, TransferLogWriter } from '../transfer-log/transfer-log.writer';
import { mayCorrectRecords } from './correction.access';
import { CorrectionChangeEntity, CorrectionEntity } from './correction.entity';
import { checkIdempotencyKey, findByKey, requestHash, type Idempotency } from './correction.idempotency';
import { checkCorrection, personPath, requestedPaths, type CleanCorrection, type CorrectionInputData, type PersonChanges } from './correction.validation';

/** What this module needs of the transfer log. */
export type CorrectionLog = Pick<TransferLogWriter, 'append' | 'recordRefusal' | 'writeOnChain'>;

/** A correction with its field changes and the policy it belongs to, as the caller may see it. */
export interface CorrectionRecord {
  correction: CorrectionEntity;
  changes: CorrectionChangeEntity[];
  policy: PolicyEntity;
  view: PiiView;
}

/** The fields of a person whose values are sealed at rest (and masked for partners without VIEW_FULL_PII). */
export const SEALED_FIELDS: ReadonlySet<string> = new Set<PersonField>(['idNumber', 'phone']);

/** One field's change, before it is stored. */
interface FieldChangeData {
  field: string;
  before: string | null;
  beforeKeyId: string | null;
  after: string | null;
  afterKeyId: string | null;
}

/** The person row after a correction, and what changed. */
interface PersonDiff {
  row: PersonEntity;
  facts: PersonFacts;
  changes: FieldChangeData[];
}

/** New ID number and phone, sealed before the transaction opens (CPU only). */
interface SealedValues {
  idNumber: Sealed | null;
  phone: Sealed | null;
}

/** What the transaction of a correction produced (or, for a replay, had produced). */
type Applied = Omit<CorrectionRecord, 'view'>;

/**
 * Corrections of customer information with the customer's evidence
 * (contract `submitCorrection` and `corrections`, README "Writes"; Art. 6 and
 * 7 of the measures: information is checked at servicing and corrected
 * promptly, and staff never change a record without the customer's request).
 *
 * A correction changes ONE person row (shared by every policy of the insurer
 * that names that person), and then re-checks every affected policy with the
 * sales path's own code (policy-store: person facts, phone sharing, the
 * seller's phone, stored verdict and missing-field rows), so the stored
 * completeness, the summaries and the clean-up campaigns see it at once.
 */
export class CorrectionService {
  constructor(
    private readonly db: DataSource,
    private readonly grants: GrantService,
    private readonly log: CorrectionLog,
    private readonly pii: PiiCipher,
    private readonly policies: Pick<PolicyService, 'findOne' | 'viewOf'>,
  ) {}

  /**
   * submitCorrection. In order:
   * 1. FORBIDDEN unless the caller is SERVICE of an insurer, broker or bank
   *    channel; BAD_USER_INPUT for a request of the wrong shape (see
   *    correction.validation.ts), nothing logged.
   *    An `idempotencyKey` that is given must be 1 to 128 characters.
   * 2. NOT_FOUND for an unknown insurer, or another insurer's principal.
   * 3. A partner: AGREEMENT_INACTIVE without an ACTIVE agreement granting
   *    CORRECT_RECORDS on the insurer; then anyone: ATTESTATION_REQUIRED
   *    without the staff attestation. Both recorded as REFUSED entries on the
   *    insurer's chain (before any policy is read, so they reveal nothing).
   * 4. The same `idempotencyKey` from the same organization seen before (keys
   *    are per organization, as for submitSales): the stored correction,
   *    nothing changed and nothing logged; BAD_USER_INPUT when the request
   *    differs. Checked after step 3, so a replay shows no more than a new
   *    correction would; the retry of a client that lost its answer learns
   *    whether it applied.
   * 5. In one transaction that first takes the insurer's chain lock
   *    (`writeOnChain`): AGREEMENT_INACTIVE, recorded as in step 3, when the
   *    partner's CORRECT_RECORDS ended since step 3 (terminated or expired);
   *    the key again (concurrent duplicates: the first applies, the others
   *    replay it); NOT_FOUND for a policy that does not exist or that a
   *    partner did not distribute; VERSION_CONFLICT unless `expectedVersion` is the current
   *    version (recorded as REFUSED); BAD_USER_INPUT for an unknown
   *    beneficiary order, a correction that changes nothing, or an ID number
   *    another person row of the insurer already has (recorded as REFUSED:
   *    merging records is out of scope, and the attempt is worth an audit
   *    line since it tells that the number is known). Then the person row,
   *    the policy's version (+1, guarded by `WHERE version = expected`), the
   *    stored completeness of every affected policy, the history rows and
   *    the log entry.
   */
  async submit(ctx: RequestContext, input: CorrectionInputData, idempotencyKey?: string | null): Promise<CorrectionRecord> {
    const actor = requireActor(ctx);
    if (!mayCorrectRecords(actor)) {
      throw new ForbiddenError('Only SERVICE principals of an insurer, a broker or a bank channel may correct records');
    }
    const clean = checkCorrection(input, ctx.now);
    const key = checkIdempotencyKey(idempotencyKey);
    const insurer = await ctx.loaders.organizationByCode.load(clean.insurerCode);
    if (!insurer || insurer.kind !== 'INSURER') throw new NotFoundError('Policy');
    const own = actor.organizationId === insurer.id;
    if (!own && isKind(actor, 'INSURER')) throw new NotFoundError('Policy');
    const grant = await this.grants.of(ctx, actor.organizationId, insurer.id);
    const agreementId = own ? null : grant.agreementIds[0] ?? null;

    const refusal = (errorCode: string, extra: Record<string, unknown> = {}): RefusalInput => ({
      insurerId: insurer.id,
      operation: 'submitCorrection',
      errorCode,
      ...logActor(actor),
      counterpartyId: own ? null : insurer.id,
      agreementId,
      policyNos: [clean.policyNo],
      fields: requestedPaths(clean),
      change: {
        policyNo: clean.policyNo,
        target: clean.target,
        beneficiaryOrder: clean.beneficiaryOrder,
        expectedVersion: clean.expectedVersion,
        evidenceMethod: clean.evidence.method,
        ...extra,
      },
    });
    const refuse = (errorCode: string, extra: Record<string, unknown> = {}) => this.log.recordRefusal(refusal(errorCode, extra));
    if (!own && !grant.scopes.has('CORRECT_RECORDS')) {
      await refuse('AGREEMENT_INACTIVE');
      throw new AgreementInactiveError(`No active data-sharing agreement grants CORRECT_RECORDS on ${insurer.code}`);
    }
    await requireAttestation(actor, refuse);

    const idempotency: Idempotency | null = key === null ? null : { key, hash: requestHash(this.pii, clean) };
    const stored = idempotency ? await findByKey(this.db.manager, actor.organizationId, idempotency) : null;
    if (stored) return { ...stored, view: await this.policies.viewOf(ctx, insurer.id, stored.policy.policyNo) };

    const sealed: SealedValues = {
      idNumber: this.pii.encryptNullable(clean.changes.idNumber),
      phone: this.pii.encryptNullable(clean.changes.phone),
    };
    let done: Applied;
    try {
      // The chain lock first: every writer of this insurer's rows queues there (sales, underwriting, corrections).
      done = await this.log.writeOnChain(
        insurer.id,
        (em, held) => this.apply(em, actor, insurer, own, own ? null : held.agreementIds[0] ?? null, clean, sealed, idempotency, ctx.now),
        { refuseOn: this.grants.requiring(actor.organizationId, insurer, 'CORRECT_RECORDS'), refusal },
      );
    } catch (error) {
      // The same key sent at once for two insurers (two chain locks): UNIQUE (organization, key) let only one commit.
      const winner = idempotency && isDuplicateKeyError(error) ? await findByKey(this.db.manager, actor.organizationId, idempotency) : null;
      if (winner) return { ...winner, view: await this.policies.viewOf(ctx, insurer.id, winner.policy.policyNo) };
      if (error instanceof VersionConflictError) {
        await refuse('VERSION_CONFLICT', { currentVersion: error.extensions.currentVersion ?? null });
      } else if (error instanceof BadInputError && error.extensions.reason === 'DUPLICATE_IDENTITY') {
        await refuse('BAD_USER_INPUT', { reason: 'DUPLICATE_IDENTITY' });
      }
      throw error;
    }
    return { ...done, view: await this.policies.viewOf(ctx, insurer.id, done.policy.policyNo) };
  }

  /** The transaction of {@link submit}, under the insurer's chain lock: re-runnable, no I/O outside `em`. */
  private async apply(
    em: EntityManager,
    actor: Actor,
    insurer: Pick<OrganizationEntity, 'id' | 'code'>,
    own: boolean,
    agreementId: string | null,
    clean: CleanCorrection,
    sealed: SealedValues,
    idempotency: Idempotency | null,
    now: Date,
  ): Promise<Applied> {
    const insurerId = insurer.id;
    const today = todayInChina(now);
    const replay = idempotency ? await findByKey(em, actor.organizationId, idempotency) : null;
    if (replay) return replay;
    const qb = em.getRepository(PolicyEntity).createQueryBuilder('p').where('p.insurer_id = :insurerId AND p.policy_no = :no', { insurerId, no: clean.policyNo });
    if (!isSqlite(em.connection)) qb.setLock('pessimistic_write');
    const policy = await qb.getOne();
    if (!policy || (!own && policy.channelId !== actor.organizationId)) throw new NotFoundError('Policy');
    if (policy.version !== clean.expectedVersion) throw new VersionConflictError(policy.version);

    // Whose record: the policyholder, the insured, or the beneficiary of that order.
    let personId: string;
    let beneficiaryIndex: number | null = null;
    if (clean.target === 'POLICYHOLDER') personId = policy.policyholderId;
    else if (clean.target === 'INSURED') personId = policy.insuredId;
    else {
      const rows = orderBeneficiaries(await em.getRepository(PolicyBeneficiaryEntity).findBy({ policyId: policy.id }));
      const matches = rows.filter((b) => b.ord === clean.beneficiaryOrder);
      if (matches.length !== 1) {
        throw new BadInputError(
          matches.length === 0 ? 'No beneficiary of this policy has that order' : 'Several beneficiaries of this policy have that order: the record must be fixed by its channel',
          { field: 'beneficiaryOrder', reason: matches.length === 0 ? 'UNKNOWN_BENEFICIARY' : 'AMBIGUOUS_BENEFICIARY' },
        );
      }
      beneficiaryIndex = rows.indexOf(matches[0]!);
      personId = matches[0]!.personId;
    }
    const path = personPath(clean.target, beneficiaryIndex);
    const person = await em.getRepository(PersonEntity).findOneBy({ id: personId, insurerId });
    if (!person) throw new Error('submitCorrection: the policy names a person row that does not exist');

    const diff = this.diff(person, clean.changes, sealed, today, now);
    const changes: FieldChangeData[] = diff.changes.map((c) => ({ ...c, field: `${path}.${c.field}` }));
    const relationship = clean.insuredRelationship !== null && clean.insuredRelationship !== policy.insuredRelationship ? clean.insuredRelationship : null;
    if (relationship !== null) changes.push({ field: 'insuredRelationship', before: policy.insuredRelationship, beforeKeyId: null, after: relationship, afterKeyId: null });
    if (changes.length === 0) throw new BadInputError('The correction changes nothing: every value given equals the stored one', { field: 'changes', reason: 'NO_CHANGE' });

    // A new ID number must not be another person's: merging two records is out of scope.
    if (diff.row.idNumberBidx !== null && diff.row.idNumberBidx !== person.idNumberBidx) {
      const holder = await em.getRepository(PersonEntity).findOne({ select: { id: true }, where: { insurerId, idNumberBidx: diff.row.idNumberBidx } });
      if (holder && holder.id !== person.id) {
        throw new BadInputError('Another record at this insurer already has this ID number: records cannot be merged by a correction', {
          field: 'changes.idNumber',
          reason: 'DUPLICATE_IDENTITY',
        });
      }
    }

    // 1. The person, once (every policy naming it sees the change).
    if (diff.changes.length > 0) {
      const r = diff.row;
      await em.getRepository(PersonEntity).update(
        { id: person.id },
        {
          name: r.name,
          gender: r.gender,
          birthDate: r.birthDate,
          idType: r.idType,
          idNumberEnc: r.idNumberEnc,
          idNumberBidx: r.idNumberBidx,
          phoneEnc: r.phoneEnc,
          phoneBidx: r.phoneBidx,
          address: r.address,
          keyId: r.keyId,
          facts: JSON.stringify(diff.facts),
          updatedAt: now,
        },
      );
    }

    // 2. The policy's edit version, guarded: exactly one of two racing corrections moves it.
    const insuredRelationship = relationship ?? policy.insuredRelationship;
    const moved = await em
      .createQueryBuilder()
      .update(PolicyEntity)
      .set({ version: () => 'version + 1', insuredRelationship, updatedAt: now })
      .where('id = :id AND version = :version', { id: policy.id, version: policy.version })
      .execute();
    if (moved.affected !== undefined && moved.affected !== 1) {
      const current = await em.getRepository(PolicyEntity).findOneBy({ id: policy.id });
      throw new VersionConflictError(current?.version ?? policy.version);
    }

    // 3. Re-check every affected policy: those naming the person, and those whose policyholder has its old or new phone.
    const identityMoved = diff.changes.some((c) => c.field === 'phone' || c.field === 'idNumber' || c.field === 'idType');
    const phones = identityMoved ? [...new Set([person.phoneBidx, diff.row.phoneBidx].filter((x): x is string => !!x))] : [];
    const sharing = diff.changes.length > 0 ? await policiesTouching(em, insurerId, [], [person.id], [policy.id]) : [];
    const byPhone = await policiesTouching(em, insurerId, phones, [], [policy.id, ...sharing.map((p) => p.id)]);
    const others = [...sharing, ...byPhone].sort((a, b) => (a.policyNo < b.policyNo ? -1 : a.policyNo > b.policyNo ? 1 : 0));
    // Policies naming the person changed too (their version stays: it counts edits of the policy itself).
    for (const part of chunk(sharing.map((p) => p.id), CHUNK_IN)) {
      await em.createQueryBuilder().update(PolicyEntity).set({ updatedAt: now }).where('id IN (:...ids)', { ids: part }).execute();
    }
    const corrected: PolicyEntity = { ...policy, insuredRelationship, version: policy.version + 1, updatedAt: now };
    const reflagged = await recomputePolicies(em, insurerId, [corrected, ...others], { today, now });
    const statusOf = new Map(reflagged.map((r) => [r.policy.id, r.verdict.status]));

    // 4. The history.
    const correction: CorrectionEntity = {
      id: newId(),
      insurerId,
      policyId: policy.id,
      policyNo: policy.policyNo,
      target: clean.target,
      beneficiaryOrder: clean.beneficiaryOrder,
      personId: person.id,
      changedFields: JSON.stringify(changes.map((c) => c.field)),
      evidenceMethod: clean.evidence.method,
      evidenceReference: clean.evidence.reference,
      evidenceConfirmedAt: clean.evidence.confirmedAt,
      submittedByOrganizationId: actor.organizationId,
      submittedByPrincipalId: actor.principalId,
      agreementId,
      version: corrected.version,
      idempotencyKey: idempotency?.key ?? null,
      requestHash: idempotency?.hash ?? null,
      createdAt: now,
    };
    const changeRows: CorrectionChangeEntity[] = changes.map((c, ord) => ({
      id: newId(),
      correctionId: correction.id,
      insurerId,
      ord,
      field: c.field,
      beforeValue: c.before,
      beforeKeyId: c.before === null ? null : c.beforeKeyId,
      afterValue: c.after,
      afterKeyId: c.after === null ? null : c.afterKeyId,
    }));
    await em.createQueryBuilder().insert().into(CorrectionEntity).values(correction).execute();
    await em.createQueryBuilder().insert().into(CorrectionChangeEntity).values(changeRows).execute();

    // 5. The log: the corrected policy first, then every other policy re-checked (in entries of at most REFLAG_ENTRY_POLICIES).
    const first = others.slice(0, REFLAG_ENTRY_POLICIES - 1);
    const rest = others.slice(REFLAG_ENTRY_POLICIES - 1);
    const completenessOf = (p: PolicyEntity) => ({ policyNo: p.policyNo, completeness: statusOf.get(p.id) ?? p.completeness });
    const bidxChange = (field: 'idNumber' | 'phone', before: string | null, after: string | null) =>
      diff.changes.some((c) => c.field === field) ? { [`${field}BlindIndex`]: { before, after } } : {};
    await this.log.append(em, {
      insurerId,
      operation: 'submitCorrection',
      ...logActor(actor),
      counterpartyId: own ? policy.channelId : insurerId,
      agreementId,
      policyNos: [policy.policyNo, ...first.map((p) => p.policyNo)],
      fields: changes.map((c) => c.field),
      change: {
        correctionId: correction.id,
        policyId: policy.id,
        policyNo: policy.policyNo,
        version: corrected.version,
        target: clean.target,
        personId: person.id,
        fields: changes.map((c) => c.field),
        // Keyed blind indexes only: no ID number or phone, not even hashed in a guessable way.
        ...bidxChange('idNumber', person.idNumberBidx, diff.row.idNumberBidx),
        ...bidxChange('phone', person.phoneBidx, diff.row.phoneBidx),
        evidence: { method: clean.evidence.method, referenceSha256: sha256Hex(clean.evidence.reference), confirmedAt: clean.evidence.confirmedAt.toISOString() },
        completeness: statusOf.get(policy.id) ?? policy.completeness,
        rechecked: [completenessOf(corrected), ...first.map(completenessOf)],
      },
    });
    const cause = { actor, insurerId, counterpartyId: own ? policy.channelId : insurerId, agreementId, cause: 'submitCorrection', ref: { correctionId: correction.id } };
    await logReflagged(this.log, em, cause, rest.map(completenessOf));
    const after = await em.getRepository(PolicyEntity).findOneByOrFail({ id: policy.id });
    return { correction, changes: changeRows, policy: after };
  }

  /**
   * The correction a key stands for, as it was applied (its policy as it is
   * now), or null when the key is new; BAD_USER_INPUT when the key was used
   * for another request.
   */
  /**
   * The person row with the values given applied, its facts brought up to
   * date from the new values (the same `personFacts` the sales path stores;
   * nothing stored is decrypted except to re-seal a value kept under an older
   * key), and the fields that really change. A value equal to the stored one
   * (the same phone or ID number written another way: same canonical form)
   * is no change.
   */
  private diff(row: PersonEntity, changes: PersonChanges, sealed: SealedValues, today: string, now: Date): PersonDiff {
    const { merged: next, changed } = mergeClearFields(row, changes);
    const facts: PersonFacts = { ...storedFacts(row) };
    const out: Array<Omit<FieldChangeData, 'field'> & { field: PersonField }> = changed.map((field) => ({ field, before: row[field], beforeKeyId: null, after: next[field], afterKeyId: null }));
    const factsOf = (values: Parameters<typeof personFacts>[0]) => personFacts(values, { today, key: this.pii.factKey });

    // The identity document: its check, embedded birth date/gender and keys are facts of type and number together.
    let sealedId = false;
    const typeChanged = changed.includes('idType');
    if (typeChanged && changes.idNumber === undefined && row.idNumberEnc !== null) {
      throw new BadInputError('Changing idType of a person with an ID number needs idNumber in the same correction (the evidence shows both)', {
        field: 'changes.idNumber',
        reason: 'ID_NUMBER_REQUIRED',
      });
    }
    const idType = (changes.idType ?? row.idType) as IdType | null;
    const incomingId = changes.idNumber !== undefined ? factsOf({ idType, idNumber: changes.idNumber }) : null;
    const numberChanged = incomingId !== null && (row.idNumberEnc === null || incomingId.idKey !== facts.idKey);
    if (numberChanged) {
      out.push({ field: 'idNumber', before: row.idNumberEnc, beforeKeyId: row.keyId, after: sealed.idNumber!.value, afterKeyId: sealed.idNumber!.keyId });
    }
    if ((typeChanged || numberChanged) && incomingId !== null) {
      next.idNumberEnc = sealed.idNumber!.value;
      next.idNumberBidx = this.pii.idIndex(idType, changes.idNumber);
      facts.idCheck = incomingId.idCheck;
      facts.idEmbedded = incomingId.idEmbedded;
      facts.idKey = incomingId.idKey;
      sealedId = true;
    }

    let sealedPhone = false;
    if (changes.phone !== undefined) {
      const bidx = this.pii.phoneIndex(changes.phone);
      if (row.phoneEnc === null || bidx === null || bidx !== row.phoneBidx) {
        const incoming = factsOf({ phone: changes.phone });
        out.push({ field: 'phone', before: row.phoneEnc, beforeKeyId: row.keyId, after: sealed.phone!.value, afterKeyId: sealed.phone!.keyId });
        next.phoneEnc = sealed.phone!.value;
        next.phoneBidx = bidx;
        facts.phoneInvalid = incoming.phoneInvalid;
        facts.phoneKey = incoming.phoneKey;
        sealedPhone = true;
      }
    }

    if (changed.includes('address')) facts.addressProblem = factsOf({ address: next.address }).addressProblem;

    settlePersonKey(this.pii, next, { idNumber: sealedId, phone: sealedPhone });
    facts.blank = blankOf(next);
    next.updatedAt = now;
    const order = (f: PersonField) => PERSON_FIELDS.indexOf(f);
    return { row: next, facts, changes: out.sort((a, b) => order(a.field) - order(b.field)) };
  }

}
