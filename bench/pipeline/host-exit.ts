/**
 * How a bench child process ends: on SIGTERM (the bench's stop()), or when
 * its IPC channel closes because the bench itself is gone (killed, or ended
 * by a closed stdout), so that no server is left running behind it.
 */
export function exitWith(close: () => Promise<unknown>): void {
  let closing = false;
  const stop = () => {
    if (closing) return;
    closing = true;
    void close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('disconnect', stop);
}
