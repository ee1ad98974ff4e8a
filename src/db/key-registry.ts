import { Column, Entity, In, Index, PrimaryColumn, type DataSource, type EntityManager } from 'typeorm';
import { idColumn, instantColumn } from './columns';
import { newId } from './ids';
import { PersonEntity } from '../modules/policy/person.entity';
import type { PiiCipher } from '../modules/person/pii';
import type { IdType } from '../domain/enums';

/**
 * PII: a data key whose sealed values may be in the database; PII_RETIRED: a
 * data key rotate-key re-sealed every value of (a start with it is refused);
 * PII_INDEX: the blind-index key's id; PII_INDEX_WRAP: the blind-index key
 * sealed under a PII key (`keyId:sealed`, see PiiCipher.wrapIndexKey: no
 * secret in clear); CHECKPOINT: a signing key.
 */
export type KeyPurpose = 'PII' | 'PII_RETIRED' | 'PII_INDEX' | 'PII_INDEX_WRAP' | 'CHECKPOINT';

/**
 * Every key this database has been used with (issue 8, item 10), by its
 * public identity only: for PII the key id stored beside every ciphertext
 * (a hash of the derived encryption key), for CHECKPOINT the base64 DER SPKI
 * public key of the Ed25519 signing key. Never a secret in clear (the
 * blind-index key is kept only sealed, PII_INDEX_WRAP).
 */
@Entity('exchange_key')
@Index('uq_exchange_key_purpose_key', ['purpose', 'keyId'], { unique: true })
export class ExchangeKeyEntity {
  @PrimaryColumn({ ...idColumn, name: 'id' })
  id!: string;

  @Column({ type: 'varchar', length: 16, name: 'purpose' })
  purpose!: KeyPurpose;

  @Column({ type: 'varchar', length: 200, name: 'key_id' })
  keyId!: string;

  @Column({ ...instantColumn, name: 'first_used_at' })
  firstUsedAt!: Date;
}

/** Thrown at start when the configured data keys cannot open the stored personal data, or KEXIN_DATA_KEY was rotated away. */
export class DataKeyMismatchError extends Error {
  constructor(expected: string[], actual: string, retired = false) {
    super(
      retired
        ? `KEXIN_DATA_KEY (key id ${actual}) was retired by rotate-key: every ID number and phone was re-encrypted under ` +
            `key id ${expected.join(', ')}. Start with the new key.`
        : `KEXIN_DATA_KEY is not the key this database's ID numbers and phones were encrypted with ` +
            `(the database knows key id ${expected.join(', ')}; the configured key has id ${actual}). ` +
            'Start with the original key (during a rotation: the new key, with the old one in KEXIN_DATA_KEY_PREVIOUS); a new key cannot read the stored data.',
    );
    this.name = 'DataKeyMismatchError';
  }
}

/** Thrown at start when the database's blind-index key cannot be recovered or is not the one its indexes were computed with. */
export class IndexKeyMismatchError extends Error {
  constructor(reason: string) {
    super(`the blind-index key of this database's ID numbers and phones ${reason}`);
    this.name = 'IndexKeyMismatchError';
  }
}

/** The PII keys the database records: those that may still seal values, and those rotated away. */
export async function piiKeys(db: DataSource | EntityManager): Promise<{ active: string[]; retired: string[]; index: string | null; wraps: string[] }> {
  const rows = await db.getRepository(ExchangeKeyEntity).findBy({ purpose: In(['PII', 'PII_RETIRED', 'PII_INDEX', 'PII_INDEX_WRAP']) });
  const of = (purpose: KeyPurpose) => rows.filter((k) => k.purpose === purpose).map((k) => k.keyId);
  return { active: of('PII'), retired: of('PII_RETIRED'), index: of('PII_INDEX')[0] ?? null, wraps: of('PII_INDEX_WRAP') };
}

/**
 * Refuses to start with data keys that cannot open the stored personal data,
 * instead of failing every later read of a phone with INTERNAL_SERVER_ERROR:
 * every recorded PII key must be openable (KEXIN_DATA_KEY or
 * KEXIN_DATA_KEY_PREVIOUS), and KEXIN_DATA_KEY must not be one rotate-key
 * retired. The first start records the key id; a database that holds sealed
 * values but no record yet (made before this check) is checked by opening one
 * value. The current key is recorded (it seals from now on), then the
 * blind-index key is checked ({@link checkIndexKey}).
 */
export async function checkDataKey(db: DataSource, pii: PiiCipher): Promise<void> {
  await checkKeyring(db, pii);
  await registerKey(db, 'PII', pii.keyId);
  await checkIndexKey(db, pii);
}

/** The data-key half of {@link checkDataKey}, without recording anything (rotate-key runs it before its work). */
export async function checkKeyring(db: DataSource, pii: PiiCipher): Promise<void> {
  const { active, retired } = await piiKeys(db);
  if (retired.includes(pii.keyId)) throw new DataKeyMismatchError(active, pii.keyId, true);
  if (active.length > 0) {
    if (active.some((id) => !pii.canOpen(id))) throw new DataKeyMismatchError(active, pii.keyId);
    return;
  }
  const sample = await sealedSample(db);
  if (sample) {
    try {
      pii.decrypt((sample.phoneEnc ?? sample.idNumberEnc)!, sample.keyId!);
    } catch {
      throw new DataKeyMismatchError([sample.keyId!], pii.keyId);
    }
  }
}

/**
 * The blind-index key must be the database's: a wrong one would fail
 * nothing visibly, it would match nobody and duplicate every person. Once
 * recorded it is unwrapped from PII_INDEX_WRAP under any configured key and
 * used ({@link PiiCipher.useIndexKey}); the first time (a database made
 * before this record) the key derived from KEXIN_DATA_KEY is checked by
 * indexing one stored phone (or ID number) again, then recorded. Either way
 * it ends wrapped under the current key too, so a start with only that key
 * (after rotate-key) finds it.
 */
export async function checkIndexKey(db: DataSource, pii: PiiCipher): Promise<void> {
  const { index, wraps } = await piiKeys(db);
  if (index !== null) {
    const wrapped = wraps.find((w) => pii.canOpen(w.slice(0, w.indexOf(':'))));
    if (!wrapped) throw new IndexKeyMismatchError('is not sealed under any configured data key: start with the key of the last rotation');
    pii.useIndexKey(pii.unwrapIndexKey(wrapped));
    if (pii.indexKeyId !== index) throw new IndexKeyMismatchError(`recorded as ${index} does not match its sealed copy (${pii.indexKeyId})`);
  } else {
    const sample = await db
      .getRepository(PersonEntity)
      .createQueryBuilder('p')
      .where('p.key_id IS NOT NULL AND ((p.phone_enc IS NOT NULL AND p.phone_bidx IS NOT NULL) OR (p.id_number_enc IS NOT NULL AND p.id_number_bidx IS NOT NULL))')
      .limit(1)
      .getOne();
    if (sample && pii.canOpen(sample.keyId!)) {
      const same =
        sample.phoneEnc !== null && sample.phoneBidx !== null
          ? pii.phoneIndex(pii.decrypt(sample.phoneEnc, sample.keyId!)) === sample.phoneBidx
          : pii.idIndex(sample.idType as IdType | null, pii.decrypt(sample.idNumberEnc!, sample.keyId!)) === sample.idNumberBidx;
      if (!same) throw new IndexKeyMismatchError('is not the one derived from KEXIN_DATA_KEY: start with the database\'s first data key');
    }
    await registerKey(db, 'PII_INDEX', pii.indexKeyId);
  }
  if (!wraps.some((w) => w.startsWith(`${pii.keyId}:`))) await registerKey(db, 'PII_INDEX_WRAP', pii.wrapIndexKey());
}

async function sealedSample(db: DataSource): Promise<PersonEntity | null> {
  return db
    .getRepository(PersonEntity)
    .createQueryBuilder('p')
    .where('p.key_id IS NOT NULL AND (p.phone_enc IS NOT NULL OR p.id_number_enc IS NOT NULL)')
    .limit(1)
    .getOne();
}

/** Records a key (idempotent: a key already recorded, by this or another server, is left as it is). */
export async function registerKey(db: DataSource, purpose: KeyPurpose, keyId: string): Promise<void> {
  const repo = db.getRepository(ExchangeKeyEntity);
  if (await repo.findOneBy({ purpose, keyId })) return;
  try {
    await repo.insert({ id: newId(), purpose, keyId, firstUsedAt: new Date() });
  } catch (error) {
    if (!(await repo.findOneBy({ purpose, keyId }))) throw error; // another server recorded it first: fine
  }
}

/** Whether `keyId` was ever used for `purpose` with this database. */
export async function isKnownKey(db: DataSource, purpose: KeyPurpose, keyId: string): Promise<boolean> {
  return (await db.getRepository(ExchangeKeyEntity).countBy({ purpose, keyId })) > 0;
}
