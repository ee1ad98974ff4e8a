import { Column, Entity, Index, PrimaryColumn, type DataSource } from 'typeorm';
import { idColumn, instantColumn } from './columns';
import { newId } from './ids';
import { PersonEntity } from '../modules/policy/person.entity';
import type { PiiCipher } from '../modules/person/pii';

export type KeyPurpose = 'PII' | 'CHECKPOINT';

/**
 * Every key this database has been used with (issue 8, item 10), by its
 * public identity only: for PII the key id stored beside every ciphertext
 * (a hash of the derived encryption key), for CHECKPOINT the base64 DER SPKI
 * public key of the Ed25519 signing key. Never a secret.
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

/** Thrown at start when KEXIN_DATA_KEY is not the key this database's personal data was sealed with. */
export class DataKeyMismatchError extends Error {
  constructor(expected: string[], actual: string) {
    super(
      `KEXIN_DATA_KEY is not the key this database's ID numbers and phones were encrypted with ` +
        `(the database knows key id ${expected.join(', ')}; the configured key has id ${actual}). ` +
        'Start with the original key; a new key cannot read the stored data.',
    );
    this.name = 'DataKeyMismatchError';
  }
}

/**
 * Refuses to start with a data key that cannot open the stored personal data,
 * instead of failing every later read of a phone with INTERNAL_SERVER_ERROR.
 * The first start records the key id; a database that holds sealed values but
 * no record yet (made before this check) is checked by opening one value.
 */
export async function checkDataKey(db: DataSource, pii: PiiCipher): Promise<void> {
  const known = (await db.getRepository(ExchangeKeyEntity).findBy({ purpose: 'PII' })).map((k) => k.keyId);
  if (known.length > 0) {
    if (!known.includes(pii.keyId)) throw new DataKeyMismatchError(known, pii.keyId);
    return;
  }
  const sample = await db
    .getRepository(PersonEntity)
    .createQueryBuilder('p')
    .where('p.key_id IS NOT NULL AND (p.phone_enc IS NOT NULL OR p.id_number_enc IS NOT NULL)')
    .limit(1)
    .getOne();
  if (sample) {
    try {
      pii.decrypt((sample.phoneEnc ?? sample.idNumberEnc)!, sample.keyId!);
    } catch {
      throw new DataKeyMismatchError([sample.keyId!], pii.keyId);
    }
  }
  await registerKey(db, 'PII', pii.keyId);
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
