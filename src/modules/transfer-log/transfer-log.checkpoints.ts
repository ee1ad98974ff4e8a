import type { DataSource } from 'typeorm';
import type { Logger } from '../../logger';
import type { Secrets } from '../../db/secrets';
import type { RequestContext } from '../../graphql/context';
import { AppError } from '../../graphql/errors';
import { newId } from '../../db/ids';
import { inTransaction } from '../../db/transaction';
import { isKnownKey, registerKey } from '../../db/key-registry';
import { GENESIS_HASH } from '../../domain/hash-chain';
import { OrganizationEntity } from '../organization/organization.entity';
import { CheckpointSigner, type CheckpointClaim } from './transfer-log.checkpoint';
import { TransferLogCheckpointEntity, TransferLogEntryEntity, TransferLogHeadEntity } from './transfer-log.entity';
import type { TransferLogReader } from './transfer-log.reader';
import { scanChain, type CheckpointTrust } from './transfer-log.verifier';

/**
 * Signed checkpoints of the chains' heads (issue 3, item 5): signing one on
 * demand or in the hourly round, storing it, answering the latest one, and
 * which keys the exchange signs or signed with (`exchange_key`). A chain
 * alone cannot show its newest entries deleted and its head rewritten; a
 * checkpoint kept outside the database can.
 */
export class TransferLogCheckpoints implements CheckpointTrust {
  private signingKeyRegistered = false;
  readonly signer: CheckpointSigner;

  constructor(
    private readonly db: DataSource,
    private readonly chains: Pick<TransferLogReader, 'authorizeChain'>,
    secrets: Pick<Secrets, 'signingKey'>,
    private readonly log: Logger,
  ) {
    this.signer = new CheckpointSigner(secrets.signingKey);
  }

  /** transferLogCheckpoint: the latest checkpoint of a chain the caller may read (null when none yet). */
  async latestCheckpoint(ctx: RequestContext, insurerCode: string): Promise<TransferLogCheckpointEntity | null> {
    const org = await this.chains.authorizeChain(ctx, insurerCode);
    return this.db.getRepository(TransferLogCheckpointEntity).findOne({ where: { insurerId: org.id }, order: { seq: 'DESC', signedAt: 'DESC', id: 'DESC' } });
  }

  /** createTransferLogCheckpoint: signs a checkpoint of the chain's current head on demand. */
  async createCheckpoint(ctx: RequestContext, insurerCode: string): Promise<TransferLogCheckpointEntity> {
    const org = await this.chains.authorizeChain(ctx, insurerCode);
    return this.signCheckpoint(org);
  }

  /**
   * Signs (insurerId, insurerCode, seq, headHash, signedAt) of the chain's
   * current head with the exchange's Ed25519 key and stores it. Before
   * signing, the entries since the latest trusted checkpoint (or since
   * genesis) are verified, so a tampered chain is never signed: then an
   * error is thrown and logged instead.
   */
  async signCheckpoint(chain: Pick<OrganizationEntity, 'id' | 'code'>): Promise<TransferLogCheckpointEntity> {
    const head = await this.db.getRepository(TransferLogHeadEntity).findOneBy({ insurerId: chain.id });
    const headSeq = head?.seq ?? 0;
    const headHash = head?.hash ?? GENESIS_HASH;
    const previous = await this.latestTrustedClaim(chain.id);
    let from = { afterSeq: 0, afterHash: GENESIS_HASH };
    if (previous && previous.seq <= headSeq) {
      const at = previous.seq === 0 ? null : await this.db.getRepository(TransferLogEntryEntity).findOneBy({ insurerId: chain.id, seq: previous.seq });
      if (previous.seq === 0 || at?.hash === previous.headHash) from = { afterSeq: previous.seq, afterHash: previous.headHash };
    }
    const scan = await scanChain(this.db, chain.id, { ...from, untilSeq: headSeq });
    const lastHash = scan.verification.headHash ?? from.afterHash;
    if (!scan.verification.valid || scan.policyIndexBadSeq !== null || scan.lastSeq !== headSeq || lastHash !== headHash) {
      this.log.error({ insurerId: chain.id, seq: headSeq }, 'transfer log does not verify: checkpoint refused');
      throw new AppError('INTERNAL_SERVER_ERROR', 'The transfer log does not verify, so no checkpoint was signed: run verifyTransferLog');
    }
    await this.registerSigningKey();
    const signedAt = new Date();
    const claim = this.signer.sign(chain.id, { insurerCode: chain.code, seq: headSeq, headHash, signedAt });
    const row = this.db.getRepository(TransferLogCheckpointEntity).create({ id: newId(), insurerId: chain.id, ...claim });
    await inTransaction(this.db, async (em) => {
      await em.getRepository(TransferLogCheckpointEntity).insert(row);
    });
    return row;
  }

  /**
   * Checkpoints every chain whose head moved since its latest checkpoint
   * (the hourly job). One chain's failure is logged and does not stop the others.
   */
  async checkpointMovedChains(): Promise<{ signed: number; failed: number }> {
    const moved = await this.db
      .getRepository(TransferLogHeadEntity)
      .createQueryBuilder('h')
      .innerJoin(OrganizationEntity, 'o', 'o.id = h.insurer_id')
      .select(['h.insurer_id AS insurerId', 'o.code AS code'])
      .where('h.seq > COALESCE((SELECT MAX(c.seq) FROM transfer_log_checkpoint c WHERE c.insurer_id = h.insurer_id AND c.public_key = :key), 0)', {
        key: this.signer.publicKey,
      })
      .getRawMany<{ insurerId: string; code: string }>();
    let signed = 0;
    let failed = 0;
    for (const chain of moved) {
      try {
        await this.signCheckpoint({ id: chain.insurerId, code: chain.code });
        signed += 1;
      } catch (err) {
        failed += 1;
        this.log.error({ err, insurerId: chain.insurerId }, 'transfer log checkpoint failed');
      }
    }
    return { signed, failed };
  }

  /**
   * The newest stored checkpoint of a chain signed with a trusted key whose
   * signature still verifies: checkpoints signed before a restart with
   * another key (MySQL without KEXIN_SIGNING_KEY, a rotated key, another
   * server) keep verifying with the key that signed them.
   */
  async latestTrustedClaim(chainId: string): Promise<CheckpointClaim | null> {
    const row = await this.db
      .getRepository(TransferLogCheckpointEntity)
      .createQueryBuilder('c')
      .where('c.insurer_id = :chainId', { chainId })
      .andWhere("(c.public_key = :current OR c.public_key IN (SELECT k.key_id FROM exchange_key k WHERE k.purpose = 'CHECKPOINT'))", {
        current: this.signer.publicKey,
      })
      .orderBy('c.seq', 'DESC')
      .addOrderBy('c.signed_at', 'DESC')
      .addOrderBy('c.id', 'DESC')
      .limit(1)
      .getOne();
    const claim = row ? claimOf(row) : null;
    return claim && this.signer.verify(chainId, claim) ? claim : null;
  }

  /** The current signing key, or one the exchange signed checkpoints with before (recorded in `exchange_key`). */
  async isTrustedKey(publicKey: string): Promise<boolean> {
    const key = publicKey.replace(/\s+/g, '');
    return this.signer.isCurrentKey(key) || (await isKnownKey(this.db, 'CHECKPOINT', key));
  }

  /** Records the current public key before its first signature, so the checkpoint verifies after the key changes. */
  private async registerSigningKey(): Promise<void> {
    if (this.signingKeyRegistered) return;
    await registerKey(this.db, 'CHECKPOINT', this.signer.publicKey);
    this.signingKeyRegistered = true;
  }
}

function claimOf(row: TransferLogCheckpointEntity): CheckpointClaim {
  return { insurerCode: row.insurerCode, seq: row.seq, headHash: row.headHash, signedAt: row.signedAt, publicKey: row.publicKey, signature: row.signature };
}
