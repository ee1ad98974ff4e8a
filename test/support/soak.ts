/**
 * `npm run test:soak` sets KEXIN_SOAK=1: the same suites with longer runs (more
 * fuzz operations, more kill -9 rounds, more racers). `npm test` keeps the
 * counts that fit CI's time; each suite names both counts where it uses them.
 */
export const SOAK = process.env.KEXIN_SOAK === '1';

/** `ci` in `npm test`, `soak` under `npm run test:soak`. */
export function soakCount(ci: number, soak: number): number {
  return SOAK ? soak : ci;
}
