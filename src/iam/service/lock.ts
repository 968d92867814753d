/**
 * Per-account serialisation of IAM writes. The metadata port makes each document write
 * atomic but not a read-check-write sequence (a DeleteConflict check, a rename, a version
 * count), so every mutation of an account's IAM state runs under this lock. It is
 * module-level so that every IamService instance and verifyMfaCode (which persists the
 * replay counter) in the process share it; one server process owns a data directory.
 */

const tails = new Map<string, Promise<void>>();

export async function withAccountLock<T>(accountId: string, fn: () => Promise<T>): Promise<T> {
  const prev = tails.get(accountId) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((resolve) => {
    release = resolve;
  });
  // `mine` never rejects, so neither does any tail: one failed mutation cannot wedge the queue.
  const tail = prev.then(() => mine);
  tails.set(accountId, tail);
  await prev;
  try {
    return await fn();
  } finally {
    release();
    // Idle accounts must not pin a resolved promise each forever.
    if (tails.get(accountId) === tail) tails.delete(accountId);
  }
}
