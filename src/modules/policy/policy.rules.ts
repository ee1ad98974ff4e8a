import { actorRule } from '../../auth/rules';
import { mayUnderwrite } from './policy.access';

/** Coarse gate of underwritePolicy ({@link mayUnderwrite}). */
export const mayUnderwriteRule = actorRule('mayUnderwrite', mayUnderwrite, 'Only an UNDERWRITER of the insurer may underwrite');
