import type { Logger } from '../../logger';
import type { TransferLogCheckpoints } from './transfer-log.checkpoints';

export const CHECKPOINT_INTERVAL_MS = 3_600_000;

/**
 * Signs a checkpoint of every chain whose head moved since its latest one,
 * every `intervalMs` (issue 3, item 5: at least hourly), and once shortly
 * after start unless `runAtStart` is false. Runs never overlap. The timers
 * are unref'd, so they never keep the process alive. Returns a stop function
 * that resolves once a running round has finished.
 */
export function startCheckpointScheduler(
  checkpoints: Pick<TransferLogCheckpoints, 'checkpointMovedChains'>,
  log: Logger,
  intervalMs: number = CHECKPOINT_INTERVAL_MS,
  options: { runAtStart?: boolean } = {},
): () => Promise<void> {
  let running: Promise<void> | null = null;
  let stopped = false;
  const round = () => {
    if (running || stopped) return;
    running = checkpoints
      .checkpointMovedChains()
      .then(({ signed, failed }) => {
        if (signed || failed) log.info({ signed, failed }, 'transfer log checkpoints');
      })
      .catch((err: unknown) => log.error({ err }, 'transfer log checkpoint round failed'))
      .finally(() => {
        running = null;
      });
  };
  const timer = setInterval(round, intervalMs);
  timer.unref();
  const first = options.runAtStart === false ? null : setTimeout(round, 0);
  first?.unref();
  return async () => {
    stopped = true;
    clearInterval(timer);
    if (first) clearTimeout(first);
    await running;
  };
}
