import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { dateColumn, idColumn, instantColumn } from '../../db/columns';

/**
 * A person on an insurer's policies (policyholder, insured, beneficiary): one
 * row per insurer and identity document, so the same customer on ten policies
 * is one record. ID numbers and phones are stored encrypted (`*_enc`, see
 * src/modules/person/pii.ts) and found through keyed blind indexes (`*_bidx`);
 * nothing decrypts them outside the mapper that builds an API response.
 * `facts` (JSON {@link PersonFacts}) keeps what the completeness checks need,
 * computed while the clear values were at hand, so a verdict can be
 * recomputed without decrypting.
 */
@Entity('person')
@Index('uq_person_identity', ['insurerId', 'idNumberBidx'], { unique: true })
@Index('ix_person_phone', ['insurerId', 'phoneBidx'])
export class PersonEntity {
  @PrimaryColumn({ ...idColumn, name: 'id' })
  id!: string;

  @Column({ ...idColumn, name: 'insurer_id' })
  insurerId!: string;

  @Column({ type: 'varchar', length: 100, name: 'name', nullable: true })
  name!: string | null;

  /** 'MALE' | 'FEMALE' as given (not derived from the ID number). */
  @Column({ type: 'varchar', length: 8, name: 'gender', nullable: true })
  gender!: string | null;

  /** 'YYYY-MM-DD' as given. */
  @Column({ ...dateColumn, name: 'birth_date', nullable: true })
  birthDate!: string | null;

  @Column({ type: 'varchar', length: 40, name: 'id_type', nullable: true })
  idType!: string | null;

  /** 'v1:' + base64(iv | tag | ciphertext) of the ID number as given (trimmed). */
  @Column({ type: 'text', name: 'id_number_enc', nullable: true })
  idNumberEnc!: string | null;

  /** HMAC of `${idTypeFamily}:${canonicalIdNumber}`: matching and duplicates. */
  @Column({ type: 'varchar', length: 64, name: 'id_number_bidx', nullable: true })
  idNumberBidx!: string | null;

  /** Encrypted phone as given (trimmed). */
  @Column({ type: 'text', name: 'phone_enc', nullable: true })
  phoneEnc!: string | null;

  /** HMAC of the normalised phone: shared-phone and sales-person checks. */
  @Column({ type: 'varchar', length: 64, name: 'phone_bidx', nullable: true })
  phoneBidx!: string | null;

  @Column({ type: 'varchar', length: 500, name: 'address', nullable: true })
  address!: string | null;

  /** Id of the data key that encrypted `id_number_enc` and `phone_enc`. */
  @Column({ type: 'varchar', length: 16, name: 'key_id', nullable: true })
  keyId!: string | null;

  /** JSON of the person's {@link PersonFacts}: presence and check results, no personal data beyond birth date and gender. */
  @Column({ type: 'text', name: 'facts' })
  facts!: string;

  @Column({ ...instantColumn, name: 'created_at' })
  createdAt!: Date;

  @Column({ ...instantColumn, name: 'updated_at' })
  updatedAt!: Date;
}
