import { actorRule } from '../../auth/rules';
import { mayChangeAgreements } from './agreement.access';

/** Coarse gate of proposeAgreement, signAgreement and terminateAgreement ({@link mayChangeAgreements}). */
export const mayChangeAgreementsRule = actorRule(
  'mayChangeAgreements',
  mayChangeAgreements,
  'Only an ADMIN of an insurer, broker or bank channel may change agreements',
);
