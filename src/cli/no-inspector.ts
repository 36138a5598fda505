/**
 * Imported first by the CLI's entry point. Node opens its inspector (a debugger that runs any code
 * it is sent) on 127.0.0.1:9229 when the process receives SIGUSR1, with no authentication: for a
 * daemon running as root that would let any local user run code as root. A listener of our own
 * replaces that default, so SIGUSR1 does nothing but say it was ignored.
 */
import { logLine } from '../os/stdio';

process.on('SIGUSR1', () => {
  logLine(
    'pvlockfs: SIGUSR1 ignored (no debugger is opened in this daemon; SIGUSR2 prints diagnostics)',
  );
});
