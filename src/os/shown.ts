/** The most characters of a path a message shows. */
const PATH_SHOWN_MAX = 200;

/**
 * A path as a message or a `key=value` line may show it: control characters escaped (a newline
 * in a name cannot forge a log line, an escape sequence cannot reach the terminal) and a very long
 * path cut, with its length said.
 */
export function shownPath(path: string, max = PATH_SHOWN_MAX): string {
  // eslint-disable-next-line no-control-regex
  const oneLine = path.replace(/[\u0000-\u001f\u007f-\u009f\\]/g, (c) =>
    c === '\\'
      ? '\\\\'
      : c === '\n'
        ? '\\n'
        : c === '\t'
          ? '\\t'
          : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
  if (oneLine.length <= max) return oneLine;
  return `${oneLine.slice(0, max)}… (${path.length} characters)`;
}

const SHOWN_MAX = 60;

/**
 * A user's value as a message shows it: on one line (control characters escaped) and at most
 * ~60 characters, so a 100 KB or multi-line argument never floods the terminal or a log.
 */
export function shown(value: string): string {
  // eslint-disable-next-line no-control-regex
  const oneLine = value.replace(/[\u0000-\u001f\u007f]/g, (c) =>
    c === '\n' ? '\\n' : c === '\t' ? '\\t' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
  if (oneLine.length <= SHOWN_MAX) return oneLine;
  return `${oneLine.slice(0, SHOWN_MAX)}… (${value.length} characters)`;
}
