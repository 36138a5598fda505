import { FsError } from '../../../src/debugfs/errors';

/** The FsError code `fn` throws, 'ok' when it returns; anything else is rethrown. */
export function fsErrorCode(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof FsError) return e.code;
    throw e;
  }
  return 'ok';
}
